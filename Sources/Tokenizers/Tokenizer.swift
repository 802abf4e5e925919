import Foundation

/// A tokenizer loaded from a Hugging Face `tokenizer.json`, giving the same token ids as the
/// Hugging Face `tokenizers` library.
///
/// Text flows through the stages the file describes: added tokens are split out, the rest is
/// normalized (`normalizer`), split into words (`pre_tokenizer`), turned into ids by the
/// `model` (BPE or Unigram) and wrapped in special tokens (`post_processor`). Decoding maps ids
/// back to token strings and joins them with the `decoder`.
///
/// The whole file is validated when loading, so encoding and decoding cannot fail. A
/// `Tokenizer` is an immutable value and can be shared across tasks and threads.
public struct Tokenizer: Sendable {
    private let addedVocabulary: AddedVocabulary
    private let normalizer: (any Normalizer)?
    private let preTokenizer: (any PreTokenizer)?
    private let model: any TokenizationModel
    private let postProcessor: (any PostProcessor)?
    private let decoder: (any TokenDecoder)?
    private let defaultTruncation: Int?
    private let truncateLeft: Bool

    /// The id of the beginning-of-sequence token: the token the post-processor puts first
    /// (`<s>` for BART/RoBERTa), else `<s>`, `<bos>` or `[CLS]` if the vocabulary has one.
    public let bosTokenId: Int?
    /// The id of the end-of-sequence token: the token the post-processor puts last (`</s>` for
    /// BART/RoBERTa and T5), else `</s>`, `<eos>` or `[SEP]` if the vocabulary has one.
    public let eosTokenId: Int?
    /// The id of the padding token: the file's `padding.pad_id` if set, else `<pad>` or `[PAD]`.
    public let padTokenId: Int?
    /// The id of the unknown token: the model's (`unk_token` / `unk_id`), else `<unk>` or `[UNK]`.
    public let unknownTokenId: Int?

    /// Loads the `tokenizer.json` at `url`.
    public init(contentsOf url: URL) throws(TokenizerError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        try self.init(jsonData: data)
    }

    /// Loads a tokenizer from the contents of a `tokenizer.json`.
    public init(jsonData: Data) throws(TokenizerError) {
        let root = try JSONNode.parse(jsonData)
        model = try makeModel(root["model"])
        normalizer = try makeNormalizer(root["normalizer"])
        preTokenizer = try makePreTokenizer(root["pre_tokenizer"])
        postProcessor = try makePostProcessor(root["post_processor"])
        decoder = try makeDecoder(root["decoder"])
        addedVocabulary = try AddedVocabulary(root["added_tokens"], normalizer: normalizer)

        let truncation = root["truncation"]
        defaultTruncation = truncation.isNull ? nil : try truncation["max_length"].optionalInt()
        truncateLeft = truncation.isNull ? false : try truncation["direction"].optionalString() == "Left"

        let model = self.model, added = addedVocabulary
        func firstKnown(_ candidates: [String]) -> Int? {
            candidates.lazy.compactMap { added.id(of: $0) ?? model.tokenToId($0) }.first
        }
        bosTokenId = postProcessor?.leadingTokenId ?? firstKnown(["<s>", "<bos>", "[CLS]"])
        eosTokenId = postProcessor?.trailingTokenId ?? firstKnown(["</s>", "<eos>", "[SEP]"])
        let padding = root["padding"]
        padTokenId = (padding.isNull ? nil : try padding["pad_id"].optionalInt()) ?? firstKnown(["<pad>", "[PAD]"])
        unknownTokenId = model.unknownTokenId ?? firstKnown(["<unk>", "[UNK]"])
    }

    /// The number of ids: the model's vocabulary plus added tokens outside it.
    public var vocabularySize: Int {
        max(model.vocabularySize, (addedVocabulary.maxId ?? -1) + 1)
    }

    /// The ids of all special tokens (the added tokens marked `special`), ascending.
    public var specialTokenIds: [Int] { addedVocabulary.specialTokenIds }

    /// The id of `token` (an added token or a model vocabulary entry), if it has one.
    public func tokenToId(_ token: String) -> Int? {
        addedVocabulary.id(of: token) ?? model.tokenToId(token)
    }

    /// The token string for `id`, if the id exists.
    public func idToToken(_ id: Int) -> String? {
        addedVocabulary.content(of: id) ?? model.idToToken(id)
    }

    /// Encodes `text` to token ids.
    ///
    /// - Parameters:
    ///   - addSpecialTokens: add the post-processor's special tokens (`<s> … </s>` for
    ///     BART/RoBERTa, `… </s>` for T5).
    ///   - maxLength: truncate to at most this many ids, like Hugging Face's
    ///     `truncation=True, max_length=N`: the text's tokens are cut to leave room for the
    ///     special tokens, which are kept. (If `maxLength` cannot even hold the special tokens,
    ///     the result is cut to `maxLength` ids.) When `nil`, the file's `truncation` setting
    ///     applies, if any.
    public func encode(_ text: String, addSpecialTokens: Bool = true, maxLength: Int? = nil) -> [Int] {
        var ids = encodeContent(text)
        let special = addSpecialTokens ? postProcessor : nil
        if let limit = maxLength ?? defaultTruncation {
            let room = max(0, limit - (special?.addedCount ?? 0))
            if ids.count > room { ids = truncateLeft ? Array(ids.suffix(room)) : Array(ids.prefix(room)) }
            if let special { ids = special.process(ids) }
            return ids.count > limit ? Array(ids.prefix(max(0, limit))) : ids
        }
        return special?.process(ids) ?? ids
    }

    /// The token strings `text` encodes to, without special tokens (for inspection).
    public func tokenize(_ text: String) -> [String] {
        encodeContent(text).map { idToToken($0) ?? "" }
    }

    /// Decodes `ids` to text. Unknown ids are ignored; special tokens are left out when
    /// `skipSpecialTokens` is true. Byte sequences that are not valid UTF-8 become U+FFFD.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let token = idToToken(id) else { continue }
            if skipSpecialTokens && addedVocabulary.isSpecial(token) { continue }
            tokens.append(token)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decodeChain(tokens).joined()
    }

    /// The ids of `text` before post-processing and truncation.
    private func encodeContent(_ text: String) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 2)
        var words: [PreToken] = []
        for segment in addedVocabulary.segments(of: Array(text.unicodeScalars), normalizer: normalizer) {
            switch segment {
            case let .token(id):
                ids.append(id)
            case let .text(piece):
                guard let preTokenizer else {
                    model.tokenize(piece.scalars, into: &ids)
                    continue
                }
                words.removeAll(keepingCapacity: true)
                preTokenizer.split(piece, into: &words)
                for word in words where !word.scalars.isEmpty { model.tokenize(word.scalars, into: &ids) }
            }
        }
        return ids
    }
}
