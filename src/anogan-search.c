/* anogan-search.c */
