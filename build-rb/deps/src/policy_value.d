build-rb/src/policy_value.o: src/policy_value.c src/policy_value.h \
 src/diag.h src/origin.h src/policy.h src/escape.h src/util.h
src/policy_value.h:
src/diag.h:
src/origin.h:
src/policy.h:
src/escape.h:
src/util.h:
