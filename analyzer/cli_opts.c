/*
 * cli_opts.c - see cli.h: the messages every command gives for a bad
 * option, worded once.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

int ct_opt_error(const char *cmd, char **argv, const char *with_value, void (*usage)(FILE *))
{
    if (optopt && strchr(with_value, optopt))
        fprintf(stderr, "%s: option '%s' needs a value\n", cmd, argv[optind - 1]);
    else
        fprintf(stderr, "%s: unknown option '%s'\n", cmd, argv[optind - 1]);
    usage(stderr);
    return EXIT_USAGE;
}

int ct_opt_enum(const char *cmd, const char *what, const char *arg, const char *const names[], int *out)
{
    size_t n = 0;
    for (; names[n]; n++)
        if (!strcmp(arg, names[n])) {
            *out = (int)n;
            return 0;
        }
    fprintf(stderr, "%s: unknown %s '%s' (use ", cmd, what, arg);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%s", i == 0 ? "" : i + 1 < n ? ", " : " or ", names[i]);
    fputs(")\n", stderr);
    return -1;
}
