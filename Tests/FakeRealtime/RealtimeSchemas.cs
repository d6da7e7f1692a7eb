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

    /// <summary>
    /// Fields the service sends as <c>null</c> although the published schema types them as objects or strings
    /// without <c>null</c> (the OpenAPI document lost their nullability): each is in the service's own examples in
    /// shared/reference/openai-realtime.md §5 (session.created, conversation.item.added, response.created,
    /// transcription failed). The fake sends what the service sends, so a null there is read as the field left
    /// out (none of them is required). <c>*</c> stands for any array index.
    /// </summary>
    private static readonly (string[] Types, string[] Path)[] DocumentedNulls =
    [
        (["session.created", "session.updated"], ["session", "audio", "input", "transcription"]),
        (["session.created", "session.updated"], ["session", "audio", "input", "noise_reduction"]),
        (["session.created", "session.updated"], ["session", "include"]),
        (["session.created", "session.updated"], ["session", "tracing"]),
        (["session.created", "session.updated"], ["session", "prompt"]),
        (["conversation.item.added", "conversation.item.done", "conversation.item.created"], ["item", "content", "*", "transcript"]),
        (["response.created", "response.done"], ["response", "status_details"]),
        (["response.created", "response.done"], ["response", "usage"]),
        (["response.created", "response.done"], ["response", "conversation_id"]),
        (["transcription_session.created", "transcription_session.updated"], ["session", "turn_detection"]),
        (["transcription_session.created", "transcription_session.updated"], ["session", "input_audio_transcription"]),
        (["transcription_session.created", "transcription_session.updated"], ["session", "input_audio_noise_reduction"]),
        (["transcription_session.created", "transcription_session.updated"], ["session", "include"]),
    ];

    private readonly FrozenDictionary<string, JsonSchema> _client;
    private readonly FrozenDictionary<string, JsonSchema> _server;
    private readonly EvaluationOptions _evaluation = new() { OutputFormat = OutputFormat.Hierarchical };

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

        if (side == "server")
        {
            evt = WithoutDocumentedNulls(type, evt);
        }

        using var document = JsonDocument.Parse(evt.ToJsonString());
        var result = schema.Evaluate(document.RootElement, _evaluation);
        if (result.IsValid)
        {
            return [];
        }

        // Only failures on a path of failed schemas count: a branch that failed under an anyOf that passed is no problem.
        var problems = new List<string>();
        Collect(result, problems);
        problems = [.. problems.Distinct().Take(8).Select(p => $"{side} event '{type}' {p}")];
        return problems.Count > 0 ? problems : [$"{side} event '{type}' does not match its schema"];
    }

    private static JsonObject WithoutDocumentedNulls(string type, JsonObject evt)
    {
        JsonObject? copy = null;

        // The beta transcription session's events are described by the REST create response, whose client_secret
        // (an ephemeral key for browsers) is required; a WebSocket session that already exists is sent none.
        if (type is "transcription_session.created" or "transcription_session.updated" && evt["session"] is JsonObject session && !session.ContainsKey("client_secret"))
        {
            copy = evt.DeepClone().AsObject();
            copy["session"]!["client_secret"] = new JsonObject { ["value"] = "", ["expires_at"] = 0 };
        }

        foreach (var (types, path) in DocumentedNulls)
        {
            if (Array.IndexOf(types, type) >= 0)
            {
                copy ??= evt.DeepClone().AsObject();
                RemoveNull(copy, path, 0);
            }
        }

        return copy ?? evt;
    }

    private static void RemoveNull(JsonNode? node, string[] path, int at)
    {
        if (at == path.Length - 1)
        {
            if (node is JsonObject parent && parent.TryGetPropertyValue(path[at], out var value) && value is null)
            {
                parent.Remove(path[at]);
            }

            return;
        }

        if (path[at] == "*")
        {
            foreach (var element in node as JsonArray ?? [])
            {
                RemoveNull(element, path, at + 1);
            }
        }
        else if (node is JsonObject obj)
        {
            RemoveNull(obj[path[at]], path, at + 1);
        }
    }

    private static void Collect(EvaluationResults node, List<string> problems)
    {
        if (node.IsValid)
        {
            return;
        }

        foreach (var (_, error) in node.Errors ?? new Dictionary<string, string>())
        {
            problems.Add($"at '{node.InstanceLocation}' ({node.EvaluationPath}): {error}");
        }

        foreach (var child in node.Details ?? [])
        {
            Collect(child, problems);
        }
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
