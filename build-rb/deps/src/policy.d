build-rb/src/policy.o: src/policy.c src/policy.h src/diag.h src/origin.h \
 /usr/include/iniparser/iniparser.h /usr/include/iniparser/dictionary.h \
 src/policy_trust.h src/policy_value.h src/util.h
src/policy.h:
src/diag.h:
src/origin.h:
/usr/include/iniparser/iniparser.h:
/usr/include/iniparser/dictionary.h:
src/policy_trust.h:
src/policy_value.h:
src/util.h:
