/* berth's client commands: "berth [--master URL] NOUN VERB …" against a master's HTTP API.
 * See docs/cli.md. */
#pragma once
#include <stdbool.h>

/* Runs the CLI. argv[0] is "berth", argv[1..] the user's words (global flags included, in
 * any position). Prints to stdout / stderr and returns the exit code: 0 ok, 1 failed (an
 * API error, a timeout, the master unreachable), 2 usage error. */
int cli_main(int argc, char **argv);

/* True when word (argv[1]) belongs to the CLI: a noun ("app", "task", "node", "volume",
 * "deployment", "logs", "events"), "help", or a global flag that may come first ("--master", "--master=URL", "--json",
 * "--help", "-h"). main.c sends such words to cli_main. */
bool cli_is_command(const char *word);
