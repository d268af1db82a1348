/* anogan-layer.c */
