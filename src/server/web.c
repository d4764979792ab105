#include <string.h>
#include "server/server.h"
const fsrv_asset *fsrv_asset_find(const char *name) { (void)name; return NULL; }
void h_root(freq *r) { fbuf_adds(&r->out, "{\"name\":\"ferry\"}"); }
void h_web_asset(freq *r) { freq_error(r, 404, "x", "no"); }
