using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// OpenAI's published Realtime event schemas (the <c>Realtime*</c> components of its OpenAPI document, embedded as
/// <c>Schema/openai-realtime-schemas.json</c>; its <c>source</c> field says where it comes from), as a JSON Schema
/// 2020-12 validator. An event is checked against the member of <c>RealtimeClientEvent</c> (or
/// <c>RealtimeServerEvent</c>) whose <c>type</c> enum holds its type; a type only the beta interface has is checked
/// against its <c>RealtimeBeta*</c> schema. Every <c>oneOf</c> is read as <c>anyOf</c>, as the file's note says (the
/// document uses oneOf where branches overlap). Thread-safe; built once.
/// </summary>
public sealed class RealtimeSchemas
{
    private static readonly Uri DocumentUri = new("https://fake-realtime.invalid/openai-realtime-schemas.json");
    private static readonly Lazy<RealtimeSchemas> LazyShared = new(Load);

    private readonly FrozenDictionary<string, JsonSchema> _client;
    private readonly FrozenDictionary<string, JsonSchema> _server;
    private readonly EvaluationOptions _evaluation = new() { OutputFormat = OutputFormat.List };

    private RealtimeSchemas(FrozenDictionary<string, JsonSchema> client, FrozenDictionary<string, JsonSchema> server)
    {
        _client = client;
        _server = server;
    }

    /// <summary>The schemas, loaded from the embedded copy on first use.</summary>
    public static RealtimeSchemas Shared => LazyShared.Value;

    /// <summary>The client event types the schemas describe.</summary>
    public IEnumerable<string> ClientEventTypes => _client.Keys;

    /// <summary>The server event types the schemas describe.</summary>
    public IEnumerable<string> ServerEventTypes => _server.Keys;

    /// <summary>What is wrong with a client event, one line per problem; empty when it matches its schema.</summary>
    public IReadOnlyList<string> CheckClientEvent(JsonObject evt) => Check(_client, evt, "client");

    /// <summary>What is wrong with a server event, one line per problem; empty when it matches its schema.</summary>
    public IReadOnlyList<string> CheckServerEvent(JsonObject evt) => Check(_server, evt, "server");

    private IReadOnlyList<string> Check(FrozenDictionary<string, JsonSchema> schemas, JsonObject evt, string side)
    {
        var type = evt["type"] is JsonValue value && value.TryGetValue<string>(out var t) ? t : null;
        if (type is null)
        {
            return [$"{side} event without a string 'type'"];
        }

        if (!schemas.TryGetValue(type, out var schema))
        {
            return [$"{side} event '{type}' is not in OpenAI's published Realtime schemas"];
        }

        using var document = JsonDocument.Parse(evt.ToJsonString());
        var result = schema.Evaluate(document.RootElement, _evaluation);
        if (result.IsValid)
        {
            return [];
        }

        var problems = (result.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{side} event '{type}' at '{d.InstanceLocation}' ({d.EvaluationPath}): {e.Value}"))
            .Distinct()
            .Take(8)
            .ToList();
        return problems.Count > 0 ? problems : [$"{side} event '{type}' does not match its schema"];
    }

    private static RealtimeSchemas Load()
    {
        using var stream = typeof(RealtimeSchemas).Assembly.GetManifestResourceStream("openai-realtime-schemas.json")
            ?? throw new InvalidOperationException("The embedded openai-realtime-schemas.json is missing from the FakeRealtime assembly.");
        var root = JsonNode.Parse(stream)?.AsObject() ?? throw new InvalidOperationException("openai-realtime-schemas.json is not a JSON object.");
        ReadOneOfAsAnyOf(root);
        var components = root["components"]?["schemas"]?.AsObject() ?? throw new InvalidOperationException("openai-realtime-schemas.json has no components.schemas.");

        var options = new BuildOptions { Dialect = Dialect.Draft202012, SchemaRegistry = new SchemaRegistry() };
        // The built schemas keep referring to the elements they were built from: those must outlive any JsonDocument.
        JsonSchema.Build(JsonSerializer.Deserialize<JsonElement>(root.ToJsonString()), options, DocumentUri);

        // GA first; a type that only the beta interface has (e.g. transcription_session.updated) falls back to its beta schema.
        var client = Members(components, "RealtimeClientEvent", options);
        var server = Members(components, "RealtimeServerEvent", options);
        foreach (var (name, node) in components)
        {
            if (node is not JsonObject member || EventType(member) is not { } type)
            {
                continue;
            }

            if (name.StartsWith("RealtimeBetaClientEvent", StringComparison.Ordinal))
            {
                client.TryAdd(type, Reference(name, options));
            }
            else if (name.StartsWith("RealtimeBetaServerEvent", StringComparison.Ordinal))
            {
                server.TryAdd(type, Reference(name, options));
            }
        }

        return new RealtimeSchemas(client.ToFrozenDictionary(), server.ToFrozenDictionary());
    }

    private static Dictionary<string, JsonSchema> Members(JsonObject components, string union, BuildOptions options)
    {
        var members = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);
        var refs = components[union]?["anyOf"]?.AsArray() ?? throw new InvalidOperationException($"openai-realtime-schemas.json has no {union} union.");
        foreach (var reference in refs)
        {
            var name = reference?["$ref"]?.GetValue<string>().Split('/')[^1] ?? throw new InvalidOperationException($"{union} holds a member without $ref.");
            if (components[name] is JsonObject member && EventType(member) is { } type)
            {
                members.TryAdd(type, Reference(name, options));
            }
        }

        return members;
    }

    private static string? EventType(JsonObject member) =>
        member["properties"]?["type"]?["enum"] is JsonArray { Count: 1 } values ? values[0]?.GetValue<string>() : null;

    private static JsonSchema Reference(string name, BuildOptions options)
    {
        var text = $$"""{"$schema":"https://json-schema.org/draft/2020-12/schema","$ref":"{{DocumentUri}}#/components/schemas/{{name}}"}""";
        return JsonSchema.Build(JsonSerializer.Deserialize<JsonElement>(text), options);
    }

    private static void ReadOneOfAsAnyOf(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["oneOf"] is { } oneOf)
                {
                    obj.Remove("oneOf");
                    if (obj["anyOf"] is null)
                    {
                        obj["anyOf"] = oneOf;
                    }
                    else
                    {
                        obj["allOf"] = new JsonArray(new JsonObject { ["anyOf"] = obj["anyOf"]!.DeepClone() }, new JsonObject { ["anyOf"] = oneOf });
                        obj.Remove("anyOf");
                    }
                }

                foreach (var (_, child) in obj.ToList())
                {
                    ReadOneOfAsAnyOf(child);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    ReadOneOfAsAnyOf(child);
                }

                break;
        }
    }
}
