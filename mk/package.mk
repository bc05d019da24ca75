# Packages and portability targets (issue 7). Included by the Makefile.
.PHONY: portability

## portability: the platform builds CI keeps from rotting
portability:
