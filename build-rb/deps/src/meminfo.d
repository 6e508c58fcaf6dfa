build-rb/src/meminfo.o: src/meminfo.c src/meminfo.h src/roots.h \
 src/util.h
src/meminfo.h:
src/roots.h:
src/util.h:
