/* anogan-model.c */
