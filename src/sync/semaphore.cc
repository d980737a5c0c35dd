// Semaphore (weighted): being written after context.h
