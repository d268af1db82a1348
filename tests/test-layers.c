#include <stdio.h>
int main (void) { puts ("Bail out! not written yet"); return 1; }
