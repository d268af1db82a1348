/* anogan-safetensors.c */
