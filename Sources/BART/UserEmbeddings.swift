import Foundation
import SafeTensors

/// Prism's per-user vectors, added to every encoder input token embedding.
///
/// Files in the model folder: `user_embeddings.safetensors` with tensor `user_embeddings` of shape
/// `[num_users + 1, d_model]` (row 0 is the zero "unknown user" vector) and `users.json`, a JSON object
/// mapping an external user id string to its row (≥ 1).
public struct UserEmbeddings: Sendable {
    /// `[rows, dModel]`, row-major.
    public let table: [Float]
    public let rows: Int
    public let dModel: Int
    /// External user id → row in `table` (always in `1..<rows`).
    public let rowsByUser: [String: Int]

    /// Builds a table, checking sizes and row indices.
    public init(table: [Float], rows: Int, dModel: Int, rowsByUser: [String: Int]) throws {
        guard rows >= 1, table.count == rows * dModel else {
            throw BartError.badUsers(detail: "table has \(table.count) floats for [\(rows), \(dModel)]")
        }
        for (user, row) in rowsByUser where row < 1 || row >= rows {
            throw BartError.badUsers(detail: "user \"\(user)\" maps to row \(row), outside 1..<\(rows)")
        }
        self.table = table
        self.rows = rows
        self.dModel = dModel
        self.rowsByUser = rowsByUser
    }

    /// Loads the two files from `folder`; `nil` when `user_embeddings.safetensors` is absent.
    /// `users.json` is optional (without it every user is unknown).
    public static func load(folder: String, dModel: Int) throws -> UserEmbeddings? {
        let tablePath = folder + "/user_embeddings.safetensors"
        guard FileManager.default.fileExists(atPath: tablePath) else { return nil }
        let file: SafeTensorsFile
        let table: [Float]
        let rows: Int
        do {
            file = try SafeTensorsFile(path: tablePath)
            guard let info = file.tensors["user_embeddings"] else {
                throw SafeTensorsError.missingTensor(name: "user_embeddings")
            }
            guard info.shape.count == 2, info.shape[1] == dModel, info.shape[0] >= 1 else {
                throw SafeTensorsError.shapeMismatch(
                    name: "user_embeddings", expected: [max(info.shape.first ?? 1, 1), dModel], actual: info.shape)
            }
            rows = info.shape[0]
            table = try file.floats("user_embeddings")
        } catch let error as SafeTensorsError {
            throw BartError.weights(error)
        }
        var mapping: [String: Int] = [:]
        let usersPath = folder + "/users.json"
        if FileManager.default.fileExists(atPath: usersPath) {
            let json: [String: Any]
            do {
                json = try readJSONObject(usersPath)
            } catch {
                throw BartError.badUsers(detail: "users.json is not a JSON object")
            }
            for (user, value) in json {
                guard let row = try? JSONFields([user: value], path: usersPath).int(user) else {
                    throw BartError.badUsers(detail: "users.json: row of \"\(user)\" is not an integer")
                }
                mapping[user] = row
            }
        }
        return try UserEmbeddings(table: table, rows: rows, dModel: dModel, rowsByUser: mapping)
    }

    /// The row of `user`, or 0 (the zero vector) for an unknown or missing user.
    public func row(for user: String?) -> Int {
        guard let user, let row = rowsByUser[user] else { return 0 }
        return row
    }
}
