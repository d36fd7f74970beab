import CofferCrypto
import CofferJSON

/// The member writers the generated shapes call: each writes nothing when the value is nil, so a
/// response carries exactly the members that are set.
extension JSONWriter {
    mutating func member(_ name: String, _ value: String?) {
        guard let value else { return }
        self.name(name)
        string(value)
    }

    mutating func member(_ name: String, _ value: Int?) {
        guard let value else { return }
        self.name(name)
        integer(value)
    }

    mutating func member(_ name: String, _ value: Int64?) {
        guard let value else { return }
        self.name(name)
        integer(value)
    }

    mutating func member(_ name: String, _ value: Bool?) {
        guard let value else { return }
        self.name(name)
        bool(value)
    }

    mutating func member(_ name: String, _ value: Double?) {
        guard let value else { return }
        self.name(name)
        number(value)
    }

    mutating func member(_ name: String, _ value: [UInt8]?) {
        guard let value else { return }
        self.name(name)
        asciiString(Base64.encode(value))
    }

    mutating func member(_ name: String, _ value: SecretBytes?) {
        guard let value else { return }
        self.name(name)
        value.withUnsafeBytes { asciiString(Base64.encode($0)) }
    }

    mutating func member<E: KMSEnumeration>(_ name: String, _ value: E?) {
        guard let value else { return }
        self.name(name)
        string(value.rawValue)
    }

    mutating func member<S: KMSShape>(_ name: String, _ value: S?) {
        guard let value else { return }
        self.name(name)
        value.write(to: &self)
    }

    mutating func member(_ name: String, _ value: StringPairs?) {
        guard let value else { return }
        self.name(name)
        beginObject()
        for pair in value.pairs {
            self.name(pair.key)
            string(pair.value)
        }
        endObject()
    }

    mutating func member(_ name: String, _ value: [String]?) {
        guard let value else { return }
        self.name(name)
        beginArray()
        for item in value { string(item) }
        endArray()
    }

    mutating func member<E: KMSEnumeration>(_ name: String, _ value: [E]?) {
        guard let value else { return }
        self.name(name)
        beginArray()
        for item in value { string(item.rawValue) }
        endArray()
    }

    mutating func member<S: KMSShape>(_ name: String, _ value: [S]?) {
        guard let value else { return }
        self.name(name)
        beginArray()
        for item in value { item.write(to: &self) }
        endArray()
    }
}
