/* anogan-tiling.c */
