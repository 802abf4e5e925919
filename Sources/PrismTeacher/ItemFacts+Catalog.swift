import PrismData
import PrismWire

extension ItemFacts {
    /// The facts of a catalog item, as teacher prompts carry them.
    public init(_ item: CatalogItem) {
        self.init()
        itemID = item.id
        title = item.title
        year = Int32(clamping: item.year ?? 0)
        genres = item.genres
        directors = item.directors
        actors = item.actors
        writers = item.writers
        plot = item.plot ?? ""
    }
}
