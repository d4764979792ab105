#include "server/server.h"
void h_snap_repo_get(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_snap_repo_get");
}
void h_snap_repo_put(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_snap_repo_put");
}
void h_snap_repo_delete(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_snap_repo_delete");
}
void h_snap_get(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_snap_get");
}
void h_snap_put(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_snap_put");
}
void h_snap_delete(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_snap_delete");
}
void h_snap_restore(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_snap_restore");
}
void h_snap_verify(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_snap_verify");
}
void h_slm_get(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_slm_get");
}
void h_slm_put(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_slm_put");
}
void h_slm_delete(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_slm_delete");
}
void h_slm_execute(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_slm_execute");
}
int fsrv_slm_start(fsrv *s) { (void)s; return 0; }
void fsrv_slm_stop(fsrv *s) { (void)s; }
