build-rb/src/diag.o: src/diag.c src/diag.h
src/diag.h:
