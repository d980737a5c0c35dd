// goro context switch for AArch64 (AAPCS64).
//
// void* goro_switch(void** save_sp, void* load_sp, void* arg)
//   Saves x19-x30 and d8-d15 on the current stack, stores sp in *save_sp,
//   loads load_sp, restores the registers saved there and returns `arg`.
//
// Saved frame, from the saved stack pointer upwards (see context.h):
//   0x00 x19 x20, 0x10 x21 x22, 0x20 x23 x24, 0x30 x25 x26, 0x40 x27 x28,
//   0x50 x29 (fp) x30 (lr = return pc), 0x60 d8 d9 ... 0x90 d14 d15
#if defined(__aarch64__)
        .text
        .globl  goro_switch
        .type   goro_switch, %function
        .p2align 4
goro_switch:
        .cfi_startproc
        sub     sp, sp, #160
        .cfi_adjust_cfa_offset 160
        stp     x19, x20, [sp, #0x00]
        stp     x21, x22, [sp, #0x10]
        stp     x23, x24, [sp, #0x20]
        stp     x25, x26, [sp, #0x30]
        stp     x27, x28, [sp, #0x40]
        stp     x29, x30, [sp, #0x50]
        stp     d8,  d9,  [sp, #0x60]
        stp     d10, d11, [sp, #0x70]
        stp     d12, d13, [sp, #0x80]
        stp     d14, d15, [sp, #0x90]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldp     x19, x20, [sp, #0x00]
        ldp     x21, x22, [sp, #0x10]
        ldp     x23, x24, [sp, #0x20]
        ldp     x25, x26, [sp, #0x30]
        ldp     x27, x28, [sp, #0x40]
        ldp     x29, x30, [sp, #0x50]
        ldp     d8,  d9,  [sp, #0x60]
        ldp     d10, d11, [sp, #0x70]
        ldp     d12, d13, [sp, #0x80]
        ldp     d14, d15, [sp, #0x90]
        add     sp, sp, #160
        mov     x0, x2
        ret
        .cfi_endproc
        .size   goro_switch, .-goro_switch

// First code of a new goroutine: x0 holds the G*, x19 the entry function.
// lr is undefined for unwinders and fp is zero for frame-pointer walks.
        .globl  goro_entry_trampoline
        .type   goro_entry_trampoline, %function
        .p2align 4
goro_entry_trampoline:
        .cfi_startproc
        .cfi_undefined x30
        mov     x29, #0
        mov     x30, #0
        blr     x19
        brk     #0
        .cfi_endproc
        .size   goro_entry_trampoline, .-goro_entry_trampoline
        .section .note.GNU-stack,"",%progbits
#endif
