// goro context switch for x86-64 System V.
//
// void* goro_switch(void** save_sp, void* load_sp, void* arg)
//   Pushes the callee-saved state on the current stack, stores the stack
//   pointer in *save_sp, loads load_sp, pops the state saved there and returns
//   `arg` (in %rax) on the resumed side.
//
// Saved frame, from the saved stack pointer upwards (see context.h):
//   0x00 mxcsr (4) | x87 control word (2) | pad (2)
//   0x08 r15, 0x10 r14, 0x18 r13, 0x20 r12, 0x28 rbx, 0x30 rbp, 0x38 return pc
// The debug stack walker reads rbp/pc of parked goroutines from this layout.
#if defined(__x86_64__)
        .text
        .globl  goro_switch
        .type   goro_switch, @function
        .p2align 4
goro_switch:
        .cfi_startproc
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        subq    $8, %rsp
        .cfi_adjust_cfa_offset 8
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        movq    %rdx, %rax
        ret
        .cfi_endproc
        .size   goro_switch, .-goro_switch

// First code a new goroutine runs: goro_switch "returns" here with the G* in
// %rax and the entry function in %rbx. The return address column is marked
// undefined so DWARF unwinders (and C++ exception search) stop here, and %rbp
// is zeroed so frame-pointer walks stop here too.
        .globl  goro_entry_trampoline
        .type   goro_entry_trampoline, @function
        .p2align 4
goro_entry_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        movq    %rax, %rdi
        callq   *%rbx
        ud2
        .cfi_endproc
        .size   goro_entry_trampoline, .-goro_entry_trampoline
        .section .note.GNU-stack,"",@progbits
#endif
