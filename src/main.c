/* berth: subcommand dispatch only (DESIGN.md §9). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("berth: not built yet\n", stderr);
	return 1;
}
