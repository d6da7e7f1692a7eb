using System.Text.Json.Nodes;

namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// Checks one connection's traffic against OpenAI's published Realtime schemas (<see cref="RealtimeSchemas"/>): every
/// client event received and every server event sent, the first <see cref="ChecksPerType"/> of each type (the shape of
/// the thousandth audio append is the shape of the first; checking each would cost more than the session). Problems
/// go to the session's <see cref="FakeSession.SchemaViolations"/>, which tests assert empty, and to the log (the
/// standalone fake, as the soak runs it, shows them there).
/// </summary>
internal sealed class WireCheck(FakeSession session, bool enabled, ILogger logger)
{
    /// <summary>How many events of one type and direction are checked per connection.</summary>
    public const int ChecksPerType = 32;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _checked = new(StringComparer.Ordinal);

    /// <summary>Checks a client event the connection received.</summary>
    public void Received(JsonObject evt) => Check(evt, "client", RealtimeSchemas.Shared.CheckClientEvent);

    /// <summary>Checks a server event the connection is about to send.</summary>
    public void Sending(JsonObject evt) => Check(evt, "server", RealtimeSchemas.Shared.CheckServerEvent);

    private void Check(JsonObject evt, string side, Func<JsonObject, IReadOnlyList<string>> check)
    {
        if (!enabled)
        {
            return;
        }

        var key = side + ":" + (evt["type"] is JsonValue value && value.TryGetValue<string>(out var type) ? type : "?");
        lock (_gate)
        {
            var count = _checked.GetValueOrDefault(key);
            if (count >= ChecksPerType)
            {
                return;
            }

            _checked[key] = count + 1;
        }

        foreach (var problem in check(evt))
        {
            session.RecordSchemaViolation(problem);
            Log.SchemaViolation(logger, session.Id, problem);
        }
    }
}
