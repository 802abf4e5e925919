// swift-tools-version: 6.0
import Foundation
import PackageDescription

// The CPU kernels (TensorKernels) are compiled for x86-64 with AVX2 + FMA (Haswell, 2013, and every
// AMD EPYC/Ryzen): the int8 screen and the SIMD8 loops run on 256-bit lanes instead of pairs of SSE ones
// (measured: int8 output projection 1.7 ms vs 4.4 ms per BART-base token). `prism` checks the CPU at
// start-up and says so if it lacks them. `PRISM_PORTABLE_BUILD=1 swift build` gives a baseline x86-64 build.
let portableBuild = ProcessInfo.processInfo.environment["PRISM_PORTABLE_BUILD"].map { $0 != "0" } ?? false
#if arch(x86_64)
let tunedForAVX2 = !portableBuild
#else
let tunedForAVX2 = false
#endif
let kernelSwiftSettings: [SwiftSetting] = tunedForAVX2 ? [.unsafeFlags(["-target-cpu", "haswell"])] : []
let cliSwiftSettings: [SwiftSetting] = tunedForAVX2 ? [.define("PRISM_KERNELS_NEED_AVX2")] : []

let package = Package(
    name: "Prism",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "prism", targets: ["PrismCLI"]),
        .library(name: "PrismClient", targets: ["PrismClient"]),
        .library(name: "PrismWorker", targets: ["PrismWorker"]),
        .library(name: "PrismBroker", targets: ["PrismBroker"]),
        .library(name: "PrismData", targets: ["PrismData"]),
        .library(name: "PrismGrounding", targets: ["PrismGrounding"]),
        .library(name: "PrismEval", targets: ["PrismEval"]),
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "TensorKernels", targets: ["TensorKernels"]),
        .library(name: "BART", targets: ["BART"]),
        .library(name: "T5", targets: ["T5"]),
        .library(name: "Seq2Seq", targets: ["Seq2Seq"]),
        .library(name: "Generation", targets: ["Generation"]),
        .library(name: "BARTBench", targets: ["BARTBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // libzmq (Debian libzmq3-dev). pkg-config's libzmq adds a noisy flag, so link it by name.
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ"),

        // A small Swift layer over libzmq: context, sockets, multipart frames, poller, I/O thread.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),

        // The prism.v1 wire protocol: generated protobuf messages and the frame codec.
        .target(
            name: "PrismWire",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),

        // Metrics (swift-metrics → Prometheus) and the HTTP endpoint that exposes them.
        .target(
            name: "PrismTelemetry",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // CURVE key files, allow-lists of keys with their services, and the ZAP decision.
        .target(name: "PrismSecurity", dependencies: ["ZeroMQ"]),
        .testTarget(name: "PrismSecurityTests", dependencies: ["PrismSecurity", "ZeroMQ"]),

        // The broker: a pure routing state machine plus the socket loop that drives it.
        .target(
            name: "PrismBroker",
            dependencies: [
                "ZeroMQ", "PrismWire", "PrismSecurity",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The stateless worker runtime and its handler protocol (echo and sleep built in).
        .target(
            name: "PrismWorker",
            dependencies: [
                "ZeroMQ", "PrismWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The client library used by ranking services and the coordinator.
        .target(
            name: "PrismClient",
            dependencies: [
                "ZeroMQ", "PrismWire",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The HTTP/JSON gateway: POST /v1/explain and friends in front of the broker (SwiftNIO HTTP/1.1).
        .target(
            name: "PrismGateway",
            dependencies: [
                "PrismClient", "PrismWire",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "PrismGatewayTests", dependencies: ["PrismGateway", "PrismWire"]),

        // Teachers for distillation: the backend interface and the grounded rule oracle (no worker
        // runtime: the coordinator links this, not the fleet's worker side).
        .target(
            name: "PrismTeacher",
            dependencies: ["PrismData", "PrismGrounding", "PrismWire"]
        ),
        // The "teacher" service: a worker handler that answers shards with a teacher backend.
        .target(name: "PrismTeacherService", dependencies: ["PrismTeacher", "PrismWire", "PrismWorker"]),

        // The distillation coordinator: prompts in shards through the fleet, results stored once.
        .target(
            name: "PrismDistill",
            dependencies: [
                "PrismData", "PrismGrounding", "PrismTeacher", "PrismClient", "PrismWire", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The "prism.explain" service: the distilled student on its own inference thread.
        .target(
            name: "PrismExplain",
            dependencies: ["BART", "Generation", "Tokenizers", "TensorKernels", "PrismData", "PrismGrounding", "PrismTeacher", "PrismWire", "PrismWorker", "ZeroMQ",
                           .product(name: "Metrics", package: "swift-metrics")]
        ),

        // Benchmarks that `prism bench` runs, each against its reference in the same run.
        .target(
            name: "PrismBench",
            dependencies: [
                "ZeroMQ", "PrismWire", "PrismClient", "PrismDistill", "PrismBroker",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        // The `prism` command.
        .executableTarget(
            name: "PrismCLI",
            dependencies: [
                "PrismBroker", "PrismWorker", "PrismClient", "PrismTelemetry", "PrismWire", "ZeroMQ", "PrismBench",
                "PrismData", "TensorKernels", "PrismTeacher", "PrismTeacherOpenAI", "PrismDistill", "PrismExplain", "BARTBench", "Tokenizers", "T5", "Generation",
                "PrismEval", "PrismGrounding", "PrismSecurity", "PrismTeacherService", "PrismGateway", "PrismTeacherT5",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: cliSwiftSettings
        ),

        // Helpers shared by the test targets.
        .target(name: "PrismTestSupport", path: "Tests/PrismTestSupport"),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "PrismWireTests", dependencies: ["PrismWire"]),
        .testTarget(name: "PrismClientTests", dependencies: ["PrismClient", "PrismWire", "ZeroMQ"]),
        .testTarget(name: "PrismWorkerTests", dependencies: ["PrismWorker", "PrismWire"]),
        .testTarget(name: "PrismBrokerTests", dependencies: ["PrismBroker", "PrismWire", "PrismSecurity", "PrismTestSupport"]),
        .testTarget(name: "PrismTeacherTests", dependencies: ["PrismTeacher", "PrismTeacherService", "PrismWire", "PrismWorker", "PrismTestSupport"]),
        .testTarget(name: "PrismExplainTests", dependencies: ["PrismExplain", "PrismData", "PrismWire", "PrismWorker", "PrismTeacher", "Generation",
                                                             "PrismGrounding", "SafeTensors", "PrismTestSupport"]),
        .testTarget(name: "PrismDistillTests", dependencies: ["PrismDistill", "PrismData", "PrismGrounding", "PrismTeacher", "PrismWire"]),
        .testTarget(
            name: "FleetTests",
            dependencies: ["PrismBroker", "PrismWorker", "PrismClient", "PrismWire", "ZeroMQ", "PrismBench", "PrismData", "PrismCLI",
                           "PrismSecurity", .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),

        // MARK: Data
        // Dataset loaders, item catalog and metadata enrichment, samples and splits, Oracle prompt rendering.
        .target(name: "PrismData", exclude: ["INPUT_FORMAT.md"]),
        .testTarget(name: "PrismDataTests", dependencies: ["PrismData", "PrismTestSupport"]),
        // MARK: Grounding
        // Checks an explanation against its request's facts: titles, people, genres, eras, invented names.
        .target(name: "PrismGrounding", dependencies: ["PrismData"]),
        .testTarget(name: "PrismGroundingTests", dependencies: ["PrismGrounding", "PrismData", "PrismTeacher", "PrismDistill"]),
        // MARK: Evaluation
        // `prism eval`: lexical metrics equal to rouge-score/sacrebleu, faithfulness, diversity, personalization.
        .target(name: "PrismEval", dependencies: ["PrismData", "PrismGrounding"]),
        .testTarget(name: "PrismEvalTests", dependencies: ["PrismEval", "PrismGrounding", "PrismData", "PrismTeacher", "PrismWire", "PrismTestSupport"]),
        // MARK: Tokenizers
        // Hugging Face tokenizer.json tokenizers (byte-level BPE, Unigram) in pure Swift.
        .target(name: "Tokenizers"),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"]),
        // MARK: Model runtime
        // OpenBLAS (Debian libopenblas-dev, pthread variant) through its CBLAS header.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas"),
        // A software prefetch hint for the kernels (header-only).
        .systemLibrary(name: "CPrefetch", path: "Sources/CPrefetch"),
        // Memory-mapped safetensors reader (F32/F16/BF16 → F32).
        .target(name: "SafeTensors"),
        // int8 linear layers over oneDNN (Debian libdnnl-dev): per-row quantization, u8s8s32 GEMM, dequantization.
        .target(
            name: "CInt8",
            cSettings: tunedForAVX2 ? [.unsafeFlags(["-mavx2", "-mfma", "-O3"])] : [.unsafeFlags(["-O3"])],
            linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]
        ),
        // float16 storage: conversions and the cross-attention step over float16 keys and values (F16C).
        .target(
            name: "CHalf",
            cSettings: tunedForAVX2 ? [.unsafeFlags(["-mavx2", "-mfma", "-mf16c", "-O3"])] : [.unsafeFlags(["-O3"])]
        ),
        // bfloat16 linear layers: rounding and the AVX512-BF16 product (a portable loop elsewhere).
        .target(
            name: "CBF16",
            cSettings: tunedForAVX2 ? [.unsafeFlags(["-mavx2", "-mfma", "-O3"])] : [.unsafeFlags(["-O3"])]
        ),
        // CPU kernels over OpenBLAS (and oneDNN for int8): linear layers, layer norm, activations, softmax, attention.
        .target(
            name: "TensorKernels",
            dependencies: ["COpenBLAS", "CPrefetch", "CInt8", "CHalf", "CBF16"],
            swiftSettings: kernelSwiftSettings,
            linkerSettings: [.linkedLibrary("m")]
        ),
        // BART encoder–decoder (HF BartForConditionalGeneration semantics) with user embeddings.
        // The model protocol generation runs on (encode once, step the decoder with a cache), the encoder
        // output and the generation defaults a model folder carries.
        .target(name: "Seq2Seq", dependencies: ["TensorKernels"]),
        .target(name: "BART", dependencies: ["Seq2Seq", "SafeTensors", "TensorKernels"]),
        // T5 / FLAN-T5 encoder–decoder (HF T5ForConditionalGeneration semantics): the teacher's architecture.
        .target(name: "T5", dependencies: ["Seq2Seq", "SafeTensors", "TensorKernels"]),
        .testTarget(name: "T5Tests", dependencies: ["T5", "Generation", "Tokenizers", "SafeTensors", "PrismTeacherT5", "PrismTeacher", "PrismWire",
                                                   "TensorKernels", "PrismTestSupport"]),
        // A teacher backend that runs a T5 / FLAN-T5 folder in-process on its own thread.
        .target(name: "PrismTeacherT5", dependencies: ["PrismTeacher", "PrismWire", "T5", "Generation", "Tokenizers", "ZeroMQ", "TensorKernels"]),
        // Greedy, beam search, sampling and batched generation over any Seq2SeqModel (BART, T5).
        .target(name: "Generation", dependencies: ["Seq2Seq", "TensorKernels"]),
        // `prism bench bart`: BART-base sized random model, latency/throughput/RSS.
        .target(name: "BARTBench", dependencies: ["BART", "Generation", "TensorKernels"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(
            name: "BARTTests",
            dependencies: ["BART", "Generation", "TensorKernels", "SafeTensors", "BARTBench", "PrismTestSupport"]
        ),

        // MARK: OpenAI-compatible teacher
        // A teacher behind an OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions:
        // vLLM, llama.cpp's server, Ollama), tested against scripts/fake_openai_server.py.
        .target(
            name: "PrismTeacherOpenAI",
            dependencies: [
                "PrismTeacher", "PrismWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PrismTeacherOpenAITests",
            dependencies: ["PrismTeacherOpenAI", "PrismTeacher", "PrismTeacherService", "PrismWire", "PrismWorker"]
        ),
    ]
)
