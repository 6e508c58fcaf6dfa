build-rb/src/privs.o: src/privs.c src/privs.h src/util.h
src/privs.h:
src/util.h:
