/* libgreet: one function, so greet has a shared library to need. */
#define LIBGREET_VERSION "1.0"

/* Writes "hello, NAME (libgreet 1.0)" and a newline to standard output. */
void greet(const char *name);
