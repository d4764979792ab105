#include "server/server.h"
void h_search(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_search");
}
void h_count(freq *r)
{
	freq_error(r, 501, "not_implemented", "h_count");
}
