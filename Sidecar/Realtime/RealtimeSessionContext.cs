using CaptionSidecar.Glossaries;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Realtime;

/// <summary>
/// What a session needs from its track: settings, log, language, clock, and a way to update the track's status.
/// Replaces a back-reference to the track, so a session can be built and tested without one.
/// </summary>
/// <param name="Options">The Realtime settings.</param>
/// <param name="Logger">Where the session logs.</param>
/// <param name="Language">The caption language code, for logs.</param>
/// <param name="Time">The clock every timeout runs on.</param>
/// <param name="UpdateStatus">Changes the track's status (thread-safe on the track's side).</param>
/// <param name="Glossary">The glossary in force and its changes (none by default).</param>
internal sealed record RealtimeSessionContext(
    RealtimeOptions Options, ILogger Logger, string Language, TimeProvider Time, Action<Func<TrackStatus, TrackStatus>> UpdateStatus, GlossarySource? Glossary = null);
