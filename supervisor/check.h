/*
 * `camwatch check`: load and check the configuration as a run would, and
 * print every effective value with where it came from, credentials masked.
 */
#ifndef CAMWATCH_SUP_CHECK_H
#define CAMWATCH_SUP_CHECK_H

/*
 * Run the command (`argv[0]` is "check"; the only option is --help).
 * Prints one line per variable on stdout ("NAME  value  (source)") and
 * returns 0 if the configuration is sound; otherwise logs the one line
 * naming what is wrong and returns CW_EXIT_CONFIG (78), or CW_EXIT_USAGE
 * for an argument it does not know.
 */
int sup_check_main(int argc, char **argv);

#endif /* CAMWATCH_SUP_CHECK_H */
