#include "server/server.h"
void h_info_version(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_info_version");
}
void h_migrations(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_migrations");
}
void h_migration_from(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_migration_from");
}
void h_migration_start(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_migration_start");
}
void h_migration_status(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_migration_status");
}
void h_migration_rollback(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_migration_rollback");
}
void h_indices(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_indices");
}
void h_indices_version_delete(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_indices_version_delete");
}
void h_tenants_get(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_tenants_get");
}
void h_tenants_post(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_tenants_post");
}
