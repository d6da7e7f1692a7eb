using System.Text.Json;

namespace CaptionSidecar.Realtime;

/// <summary>
/// One input of a session's loop. Everything that can change a session's state arrives as one of these on one
/// channel, so the loop owns that state without a lock: server events, the end of the connection, audio becoming
/// readable or ending, the track's start and handover requests, and timer ticks.
/// </summary>
internal abstract record SessionInput
{
    /// <summary>A parsed server event; the loop disposes the document after handling it.</summary>
    public sealed record ServerEvent(JsonDocument Document, int Length) : SessionInput;

    /// <summary>The connection ended without us ending it.</summary>
    public sealed record ConnectionEnded(string Reason) : SessionInput;

    /// <summary>Audio can be read from the track's channel.</summary>
    public sealed record AudioReadable : SessionInput
    {
        public static AudioReadable Instance { get; } = new();
    }

    /// <summary>The track's audio channel completed: the input ended.</summary>
    public sealed record AudioEnded : SessionInput
    {
        public static AudioEnded Instance { get; } = new();
    }

    /// <summary>The track lets the session hear audio from <paramref name="ResumeSample"/> on.</summary>
    public sealed record Start(long ResumeSample) : SessionInput;

    /// <summary>The track asks for a handover at the next pause, or at <paramref name="ForceAt"/>.</summary>
    public sealed record HandoverRequested(DateTimeOffset ForceAt) : SessionInput;

    /// <summary>The glossary changed: the loop sends the session its new configuration (see <see cref="RealtimeSession"/>).</summary>
    public sealed record GlossaryChanged : SessionInput
    {
        public static GlossaryChanged Instance { get; } = new();
    }

    /// <summary>A deadline may have passed (the loop checks them all).</summary>
    public sealed record Tick : SessionInput
    {
        public static Tick Instance { get; } = new();
    }
}
