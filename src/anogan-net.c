/* anogan-net.c */
