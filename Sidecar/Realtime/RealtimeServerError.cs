using System.Text;
using System.Text.Json;

namespace CaptionSidecar.Realtime;

/// <summary>
/// A server <c>error</c> event's fields (each may be missing: a peer may send a bare <c>{"type":"error"}</c>), and
/// the sentence a person reads about it.
/// </summary>
/// <param name="Code">The error's <c>code</c>, else its <c>type</c>; null when neither came.</param>
/// <param name="Message">The error's message; null when none came.</param>
/// <param name="Param">The setting the error is about, if any.</param>
/// <param name="EventId">The <c>event_id</c> of our client event it refers to, if any.</param>
internal sealed record RealtimeServerError(string? Code, string? Message, string? Param, string? EventId)
{
    /// <summary>Reads the fields of an <c>error</c> event (from its <c>error</c> object, else the event itself).</summary>
    public static RealtimeServerError From(JsonElement e)
    {
        var nested = e.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.Object;
        var error = nested ? err : e;

        // Without an error object, the event's own "type" is "error", not the kind of error.
        return new RealtimeServerError(
            Field(error, "code") ?? (nested ? Field(error, "type") : null),
            Field(error, "message"),
            Field(error, "param"),
            Field(error, "event_id"));
    }

    /// <summary>The code, or "unknown" when none came.</summary>
    public string CodeOrUnknown => Code ?? "unknown";

    /// <summary>A short form for status: code and message.</summary>
    public string Summary => (Code, Message) switch
    {
        (null, null) => "an error without details",
        (null, { } m) => m,
        ({ } c, null) => c,
        ({ } c, { } m) => $"{c}: {m}",
    };

    /// <summary>
    /// One sentence: what went wrong, about which setting, about which of our events (<paramref name="clientEventType"/>
    /// is that event's type when we still know it).
    /// </summary>
    public string Describe(string? clientEventType)
    {
        var text = new StringBuilder();
        text.Append(Code is null && Message is null ? "an error without a code or message" : Summary);
        if (Param is not null)
        {
            text.Append(" (setting ").Append(Param).Append(')');
        }

        if (EventId is not null)
        {
            text.Append("; it refers to our ").Append(clientEventType ?? "event").Append(' ').Append(EventId);
        }

        return text.ToString();
    }

    private static string? Field(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;
}
