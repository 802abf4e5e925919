/// SentencePiece's precompiled character map (not implemented yet).
struct PrecompiledNormalizer: Normalizer {
    init(_ node: JSONNode) throws(TokenizerError) {
        throw .unsupportedComponent(component: "normalizer", type: "Precompiled")
    }
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] { text }
}
