/* `berth lb`: marathon-lb's job with a real HAProxy (docs/lb.md). */
#pragma once

int lb_main(int argc, char **argv);
