build-rb/src/policy_trust.o: src/policy_trust.c src/policy_trust.h \
 src/diag.h
src/policy_trust.h:
src/diag.h:
