using System.Text.Json;
using CaptionSidecar.Captions;

namespace CaptionSidecar.Realtime;

/// <summary>
/// A Realtime transcription session (<c>?intent=transcription</c>): the server transcribes each committed turn in
/// the spoken language; its <c>conversation.item.input_audio_transcription.*</c> events carry the text.
/// </summary>
internal sealed partial class RealtimeTranscriptionSession(
    RealtimeSessionContext context, IRealtimeConnection connection, ICaptionInput captions, AudioReplayBuffer replay, int sessionNumber)
    : RealtimeSession(context, connection, captions, replay, sessionNumber)
{
    protected override string Model => Options.TranscribeModel;

    protected override (BinaryData Message, string EventId) SessionUpdate() => Events.TranscriptionSessionUpdate(Options, Glossary);

    protected override (BinaryData Message, string EventId) GlossaryUpdate() => Events.TranscriptionPromptUpdate(Options, Glossary);

    protected override bool DispatchKind(string type, JsonElement e)
    {
        if (Str(e, "item_id") is { } heard && IsHeardByNext(heard))
        {
            // A turn this session left to its successor after a handover: the successor's text is the one shown.
            return true;
        }

        switch (type)
        {
            case "conversation.item.input_audio_transcription.delta":
                if (Str(e, "item_id") is { } deltaItem && Str(e, "delta") is { Length: > 0 } delta)
                {
                    Captions.TextDelta(deltaItem, delta);
                }

                return true;
            case "conversation.item.input_audio_transcription.completed":
                OnCompleted(e);
                return true;
            case "conversation.item.input_audio_transcription.failed":
                OnFailed(e);
                return true;
            default:
                // conversation.item.added/done and anything newer: nothing to do.
                return false;
        }
    }

    private void OnCompleted(JsonElement e)
    {
        if (Str(e, "item_id") is not { } item)
        {
            return;
        }

        Captions.TextCompleted(item, Str(e, "transcript") ?? string.Empty);
        var used = e.TryGetProperty("usage", out var usage) ? RealtimeUsage.FromTranscription(usage) : Tracks.TokenUsage.None;
        Context.UpdateStatus(s => s with { TurnsCompleted = s.TurnsCompleted + 1, Usage = s.Usage.Add(used) });
        TurnFinished(item);
    }

    private void OnFailed(JsonElement e)
    {
        if (Str(e, "item_id") is not { } item)
        {
            return;
        }

        var reason = e.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
            ? Str(error, "message") ?? Str(error, "code") ?? "unknown"
            : "unknown";
        LogTranscriptionFailed(Logger, Language, item, reason);
        Captions.TurnFailed(item, reason);
        TurnFinished(item);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: transcription of {ItemId} failed: {Reason}")]
    private static partial void LogTranscriptionFailed(ILogger logger, string language, string itemId, string reason);
}
