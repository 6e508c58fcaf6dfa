build-rb/src/commitslack.o: src/commitslack.c src/commitslack.h \
 src/roots.h src/util.h
src/commitslack.h:
src/roots.h:
src/util.h:
