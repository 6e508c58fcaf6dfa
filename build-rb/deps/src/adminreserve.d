build-rb/src/adminreserve.o: src/adminreserve.c src/adminreserve.h \
 src/roots.h src/util.h
src/adminreserve.h:
src/roots.h:
src/util.h:
