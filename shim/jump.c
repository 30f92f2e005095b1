/*
 * jump.c - a setjmp/longjmp pair of the shim's own, for abandoning a
 * guarded read from the fault handler (py/peek.c).
 *
 * Promise: ct_jump_save and ct_jump_back touch the registers and the given
 * buffer, nothing else: no thread block, no signal mask, no errno, no
 * system call. glibc's sigsetjmp/siglongjmp read the calling thread's
 * pointer guard, and siglongjmp's _longjmp_unwind rewrites the thread's
 * cleanup list (and may run its cleanup handlers); uffd-async's flusher is
 * a process without a thread block of its own, running on that of the
 * program thread that created it (backend_uffd_async.c), so it may do
 * neither. GCC's __builtin_setjmp is no substitute: its receiver assumes
 * call-clobbered registers survived the jump (measured: the flusher looped
 * on a fault through a stale register). ct_jump_save is declared
 * returns_twice (ct_shim.h), so the compiler treats it as it treats setjmp.
 * No pointer mangling: a buffer lives on its reader's stack for the length
 * of one read. Not shadow-stack aware (nor is anything of the shim's).
 */
#include "ct_shim.h"

#if defined(__x86_64__)
/* buf: rbx rbp r12 r13 r14 r15, the stack pointer after return, the return
 * address. */
__asm__(".text\n"
        ".globl ct_jump_save\n"
        ".hidden ct_jump_save\n"
        ".type ct_jump_save,@function\n"
        "ct_jump_save:\n"
        "  movq %rbx, 0(%rdi)\n"
        "  movq %rbp, 8(%rdi)\n"
        "  movq %r12, 16(%rdi)\n"
        "  movq %r13, 24(%rdi)\n"
        "  movq %r14, 32(%rdi)\n"
        "  movq %r15, 40(%rdi)\n"
        "  leaq 8(%rsp), %rdx\n"
        "  movq %rdx, 48(%rdi)\n"
        "  movq (%rsp), %rdx\n"
        "  movq %rdx, 56(%rdi)\n"
        "  xorl %eax, %eax\n"
        "  ret\n"
        ".size ct_jump_save, .-ct_jump_save\n"
        ".globl ct_jump_back\n"
        ".hidden ct_jump_back\n"
        ".type ct_jump_back,@function\n"
        "ct_jump_back:\n"
        "  movq 0(%rdi), %rbx\n"
        "  movq 8(%rdi), %rbp\n"
        "  movq 16(%rdi), %r12\n"
        "  movq 24(%rdi), %r13\n"
        "  movq 32(%rdi), %r14\n"
        "  movq 40(%rdi), %r15\n"
        "  movq 48(%rdi), %rsp\n"
        "  movl %esi, %eax\n"
        "  jmpq *56(%rdi)\n"
        ".size ct_jump_back, .-ct_jump_back\n");
#elif defined(__aarch64__)
/* buf: x19-x28, x29 (frame), x30 (return address), sp, d8-d15. */
__asm__(".text\n"
        ".globl ct_jump_save\n"
        ".hidden ct_jump_save\n"
        ".type ct_jump_save,%function\n"
        "ct_jump_save:\n"
        "  stp x19, x20, [x0, #0]\n"
        "  stp x21, x22, [x0, #16]\n"
        "  stp x23, x24, [x0, #32]\n"
        "  stp x25, x26, [x0, #48]\n"
        "  stp x27, x28, [x0, #64]\n"
        "  stp x29, x30, [x0, #80]\n"
        "  mov x2, sp\n"
        "  str x2, [x0, #96]\n"
        "  stp d8, d9, [x0, #104]\n"
        "  stp d10, d11, [x0, #120]\n"
        "  stp d12, d13, [x0, #136]\n"
        "  stp d14, d15, [x0, #152]\n"
        "  mov w0, #0\n"
        "  ret\n"
        ".size ct_jump_save, .-ct_jump_save\n"
        ".globl ct_jump_back\n"
        ".hidden ct_jump_back\n"
        ".type ct_jump_back,%function\n"
        "ct_jump_back:\n"
        "  ldp x19, x20, [x0, #0]\n"
        "  ldp x21, x22, [x0, #16]\n"
        "  ldp x23, x24, [x0, #32]\n"
        "  ldp x25, x26, [x0, #48]\n"
        "  ldp x27, x28, [x0, #64]\n"
        "  ldp x29, x30, [x0, #80]\n"
        "  ldr x2, [x0, #96]\n"
        "  mov sp, x2\n"
        "  ldp d8, d9, [x0, #104]\n"
        "  ldp d10, d11, [x0, #120]\n"
        "  ldp d12, d13, [x0, #136]\n"
        "  ldp d14, d15, [x0, #152]\n"
        "  mov w0, w1\n"
        "  ret\n"
        ".size ct_jump_back, .-ct_jump_back\n");
#else
#error "cowtrace's shim supports x86-64 and aarch64"
#endif
