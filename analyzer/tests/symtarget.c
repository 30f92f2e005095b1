/*
 * symtarget.c - a program with known function names and lines, built with
 * -g for test_symbols.py: traces point their MODULE records at this file
 * and their native frames at these functions. Each function is on one line
 * so every instruction of it maps to that line; noinline keeps each one a
 * symbol of its own. It includes a function named like CPython's
 * evaluation loop so the folding rules around it run on real symbols.
 * Never traced: running it just returns.
 */
__attribute__((noinline)) void cow_leaf(volatile long *p) { *p += 1; *p += 2; }
__attribute__((noinline)) void cow_middle(volatile long *p) { cow_leaf(p); cow_leaf(p + 1); *p += 3; }
__attribute__((noinline)) long _PyEval_EvalFrameDefault(volatile long *p) { cow_middle(p); return *p + 1; }
__attribute__((noinline)) long run_python(volatile long *p) { return _PyEval_EvalFrameDefault(p) + 1; }
int main(void) { static volatile long x[2]; return (int)run_python(x) & 0; }
