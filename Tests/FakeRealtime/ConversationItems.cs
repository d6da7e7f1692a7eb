using System.Text.Json;
using System.Text.Json.Nodes;

namespace CaptionSidecar.FakeRealtime;

/// <summary>What the fake keeps of a conversation item: its role, its text (null when it holds none, e.g. audio) and its audio length.</summary>
/// <param name="Role">user, system or assistant.</param>
/// <param name="Text">The item's text parts joined by a space; null when it has none.</param>
/// <param name="AudioMs">Length of the item's audio: a turn committed from the input audio buffer, or input_audio a client sent.</param>
internal sealed record ItemContent(string Role, string? Text, long AudioMs);

/// <summary>Message items as a client sends them (<c>conversation.item.create</c>, inline <c>response.input</c> items), read and checked like the service.</summary>
internal static class ConversationItems
{
    /// <summary>
    /// Reads a message item: its content for the fake (text parts joined by a space) and the content echoed in
    /// <c>conversation.item.added/done</c> (audio bytes left out, as the service does). <paramref name="param"/> is the
    /// item's path in the client event, for error messages.
    /// </summary>
    public static (ItemContent? Content, JsonArray? Echo, ProtocolError? Error) Parse(JsonNode? node, string param)
    {
        if (node is not JsonObject item)
        {
            return Fail(node is null
                ? new ProtocolError("missing_required_parameter", $"Missing required parameter: '{param}'.", param)
                : new ProtocolError("invalid_type", $"Invalid type for '{param}': expected an object.", param));
        }

        var type = StringOf(item["type"]);
        if (type != "message")
        {
            return Fail(new ProtocolError("unsupported_by_fake", $"The fake Realtime server accepts only message items (got '{type}').", param + ".type", "server_error"));
        }

        var role = StringOf(item["role"]);
        string[]? allowed = role switch
        {
            "user" => ["input_text", "input_audio"],
            "system" => ["input_text"],
            "assistant" => ["output_text"],
            _ => null,
        };
        if (allowed is null)
        {
            return Fail(new ProtocolError("invalid_value", $"Invalid value: '{role}'. Supported values are: 'user', 'system' and 'assistant'.", param + ".role"));
        }

        if (item["content"] is not JsonArray parts)
        {
            return Fail(new ProtocolError("missing_required_parameter", $"Missing required parameter: '{param}.content' (an array of content parts).", param + ".content"));
        }

        var texts = new List<string>();
        var echo = new JsonArray();
        long audioMs = 0;
        for (var n = 0; n < parts.Count; n++)
        {
            var at = $"{param}.content[{n}]";
            var partType = parts[n] is JsonObject part ? StringOf(part["type"]) : null;
            if (partType is null || !allowed.Contains(partType))
            {
                return Fail(partType is "input_image" or "output_audio"
                    ? new ProtocolError("unsupported_by_fake", $"The fake Realtime server does not read '{partType}' content.", at + ".type", "server_error")
                    : new ProtocolError("invalid_value", $"Invalid value: '{partType}'. Supported values for a {role} message are: {string.Join(", ", allowed.Select(a => $"'{a}'"))}.", at + ".type"));
            }

            if (partType == "input_audio")
            {
                var (ms, audioError) = ReadAudioMs(parts[n]!["audio"], at);
                if (audioError is not null)
                {
                    return Fail(audioError);
                }

                audioMs += ms;
                echo.Add(new JsonObject { ["type"] = "input_audio", ["transcript"] = null });
                continue;
            }

            if (parts[n]!["text"] is not JsonValue textValue || !textValue.TryGetValue<string>(out var text))
            {
                return Fail(new ProtocolError("missing_required_parameter", $"Missing required parameter: '{at}.text'.", at + ".text"));
            }

            texts.Add(text);
            echo.Add(new JsonObject { ["type"] = partType, ["text"] = text });
        }

        return (new ItemContent(role!, texts.Count > 0 ? string.Join(" ", texts) : null, audioMs), echo, null);
    }

    private static (long Ms, ProtocolError? Error) ReadAudioMs(JsonNode? audio, string at)
    {
        try
        {
            if (audio is JsonValue value && value.TryGetValue<string>(out var base64) && Convert.FromBase64String(base64) is { } pcm && pcm.Length % 2 == 0)
            {
                return (pcm.Length / 48, null);
            }
        }
        catch (FormatException)
        {
            // Reported below like a missing or odd-length audio.
        }

        return (0, new ProtocolError("invalid_value", $"Invalid '{at}.audio': expected base64 of PCM16 LE mono 24 kHz audio.", at + ".audio"));
    }

    private static (ItemContent? Content, JsonArray? Echo, ProtocolError? Error) Fail(ProtocolError error) => (null, null, error);

    private static string? StringOf(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node?.ToJsonString();
}
