import COpenBLAS

/// Thin wrappers over OpenBLAS's CBLAS routines and its thread control.
///
/// All matrices are row-major. Weights are kept in PyTorch's `[out, in]` layout, so a linear layer is
/// `Y = X · Wᵀ` (`cblas_sgemm` with `CblasTrans` on the weight) and a single-row step is `y = W · x`
/// (`cblas_sgemv`, which OpenBLAS runs several times faster than a one-row `sgemm`).
public enum BLAS {
    /// Sets the number of threads OpenBLAS uses (process-wide). Prism defaults to 1: the worker runs one
    /// model per inference thread and scales by processes, not by BLAS threads.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// `C[m×n] = alpha · A[m×k] · B[n×k]ᵀ + beta · C` (row-major; `lda`, `ldb`, `ldc` are row strides).
    @inlinable
    public static func gemmNT(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `C[m×n] = alpha · A[m×k] · B[k×n] + beta · C` (row-major with row strides).
    @inlinable
    public static func gemmNN(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y[m] = alpha · A[m×n] · x[n] + beta · y` (row-major `A` with row stride `lda`).
    @inlinable
    public static func gemv(
        m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// `y[n] = alpha · A[m×n]ᵀ · x[m] + beta · y` (row-major `A` with row stride `lda`).
    @inlinable
    public static func gemvT(
        m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, CblasTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
}
