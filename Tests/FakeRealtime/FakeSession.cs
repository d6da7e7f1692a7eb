using System.Text.Json.Nodes;

namespace CaptionSidecar.FakeRealtime;

/// <summary>Kind of session, from the connection's <c>intent</c> query parameter.</summary>
public enum FakeSessionType
{
    /// <summary>A conversation session (<c>type:"realtime"</c>), any intent other than <c>transcription</c>.</summary>
    Realtime,

    /// <summary>A transcription-only session (<c>type:"transcription"</c>), <c>intent=transcription</c>.</summary>
    Transcription,
}

/// <summary>
/// What one accepted WebSocket session saw and sent, for assertions. Every list property returns a snapshot;
/// all members are safe to read while the session runs.
/// </summary>
public sealed class FakeSession
{
    private readonly Lock _gate = new();
    private readonly Action _changed;
    private readonly List<string> _clientEventTypes = [];
    private readonly List<(TimeSpan Start, TimeSpan End)> _speechSpans = [];
    private readonly List<TimeSpan> _committedAudio = [];
    private readonly List<string> _usageSent = [];
    private readonly List<string> _completedTranscripts = [];
    private readonly List<string> _errorsSent = [];
    private readonly List<string> _schemaViolations = [];
    private readonly List<FakeResponseRequest> _responseRequests = [];
    private string _sessionConfig = "{}";
    private long _appendedBytes;
    private int _conversationItemCount;
    private int _peakConversationItemCount;
    private bool _isOpen = true;
    private string? _targetLanguage;
    private string? _speaker;

    internal FakeSession(string id, FakeSessionType type, string? intent, string? model, string? betaHeader, Action changed)
    {
        Id = id;
        SessionType = type;
        Intent = intent;
        Model = model;
        BetaHeader = betaHeader;
        _changed = changed;
    }

    /// <summary>The session id sent in <c>session.created</c> (<c>sess_…</c>).</summary>
    public string Id { get; }

    /// <summary>The <c>intent</c> query parameter of the upgrade request, if any.</summary>
    public string? Intent { get; }

    /// <summary>The <c>model</c> query parameter of the upgrade request, if any.</summary>
    public string? Model { get; }

    /// <summary>The <c>OpenAI-Beta</c> header of the upgrade request, if the client sent one (allowed, not required).</summary>
    public string? BetaHeader { get; }

    /// <summary>Transcription or conversation session.</summary>
    public FakeSessionType SessionType { get; }

    /// <summary>True until the connection has ended (closed, dropped or expired).</summary>
    public bool IsOpen
    {
        get
        {
            lock (_gate)
            {
                return _isOpen;
            }
        }
    }

    /// <summary>
    /// A conversation session's target language: the script column its responses take their lines from, as read
    /// from the session's instructions at the last <c>session.update</c> (see <see cref="FakeScript"/>); null before
    /// that, and for transcription sessions.
    /// </summary>
    public string? TargetLanguage
    {
        get
        {
            lock (_gate)
            {
                return _targetLanguage;
            }
        }
    }

    /// <summary>The current effective session configuration as JSON (what the last session.created/updated carried).</summary>
    public string SessionConfig
    {
        get
        {
            lock (_gate)
            {
                return _sessionConfig;
            }
        }
    }

    /// <summary>The <c>type</c> of every client event received, in order (<c>"(invalid)"</c> for a message that was not a JSON event).</summary>
    public IReadOnlyList<string> ClientEventTypes => Snapshot(_clientEventTypes);

    /// <summary>Total PCM16 bytes accepted through <c>input_audio_buffer.append</c>.</summary>
    public long AppendedBytes
    {
        get
        {
            lock (_gate)
            {
                return _appendedBytes;
            }
        }
    }

    /// <summary>
    /// One span per VAD-detected turn on the session's audio timeline: the <c>audio_start_ms</c> (prefix padding
    /// included) and <c>audio_end_ms</c> that were sent to the client.
    /// </summary>
    public IReadOnlyList<(TimeSpan Start, TimeSpan End)> SpeechSpans
    {
        get
        {
            lock (_gate)
            {
                return [.. _speechSpans];
            }
        }
    }

    /// <summary>
    /// The audio of every committed turn, in order: for a VAD turn its prefix padding, speech and the silence that
    /// ended it; for a client commit the whole buffer. What the fake bills (10 audio tokens a second) in the turn's
    /// transcription and in every response whose context holds the turn.
    /// </summary>
    public IReadOnlyList<TimeSpan> CommittedAudio
    {
        get
        {
            lock (_gate)
            {
                return [.. _committedAudio];
            }
        }
    }

    /// <summary>Items currently in the session's default conversation (user turns and assistant answers, minus deletions).</summary>
    public int ConversationItemCount
    {
        get
        {
            lock (_gate)
            {
                return _conversationItemCount;
            }
        }
    }

    /// <summary>The most items the default conversation held at any moment of the session.</summary>
    public int PeakConversationItemCount
    {
        get
        {
            lock (_gate)
            {
                return _peakConversationItemCount;
            }
        }
    }

    /// <summary>Transcripts sent in <c>conversation.item.input_audio_transcription.completed</c>, in sending order.</summary>
    public IReadOnlyList<string> CompletedTranscripts => Snapshot(_completedTranscripts);

    /// <summary>Every <c>response.create</c> that started a response, in order, with its context and the conversation then.</summary>
    public IReadOnlyList<FakeResponseRequest> ResponseRequests
    {
        get
        {
            lock (_gate)
            {
                return [.. _responseRequests];
            }
        }
    }

    /// <summary>
    /// Every <c>usage</c> object the session sent (in <c>response.done</c> and in a transcription's <c>completed</c>),
    /// as JSON, in sending order: what the service would bill the session for.
    /// </summary>
    public IReadOnlyList<string> UsageSent => Snapshot(_usageSent);

    /// <summary>The <c>error.code</c> of every <c>error</c> event sent, in order.</summary>
    public IReadOnlyList<string> ErrorsSent => Snapshot(_errorsSent);

    internal void RecordClientEvent(string type) => Update(() => _clientEventTypes.Add(type));

    internal void RecordConfig(JsonObject config)
    {
        var json = config.ToJsonString();
        Update(() => _sessionConfig = json);
    }

    internal void RecordAppended(int bytes) => Update(() => _appendedBytes += bytes);

    internal void RecordSpeechSpan(TimeSpan start, TimeSpan end) => Update(() => _speechSpans.Add((start, end)));

    internal void RecordCommittedAudio(TimeSpan audio) => Update(() => _committedAudio.Add(audio));

    internal void RecordUsage(JsonObject usage)
    {
        var json = usage.ToJsonString();
        Update(() => _usageSent.Add(json));
    }

    internal void RecordCompleted(string transcript) => Update(() => _completedTranscripts.Add(transcript));

    internal void RecordConversationItemCount(int count) => Update(() =>
    {
        _conversationItemCount = count;
        _peakConversationItemCount = Math.Max(_peakConversationItemCount, count);
    });

    internal void RecordResponseRequest(FakeResponseRequest request) => Update(() => _responseRequests.Add(request));

    internal void RecordError(string code) => Update(() => _errorsSent.Add(code));

    /// <summary>
    /// Events of this session, sent by either side, that do not match OpenAI's published Realtime schemas (see
    /// <see cref="RealtimeSchemas"/>), one line per problem; empty when the wire matched. At most 100 are kept.
    /// </summary>
    public IReadOnlyList<string> SchemaViolations => Snapshot(_schemaViolations);

    internal void RecordSchemaViolation(string problem) => Update(() =>
    {
        if (_schemaViolations.Count < 100)
        {
            _schemaViolations.Add(problem);
        }
    });

    /// <summary>
    /// A transcription session's speaker: the key of the <see cref="FakeRealtimeOptions.SpeakerScripts"/> entry its
    /// last committed turn took its line from; null before any turn and when the turn used the shared script.
    /// </summary>
    public string? Speaker
    {
        get
        {
            lock (_gate)
            {
                return _speaker;
            }
        }
    }

    internal void RecordSpeaker(string? speaker) => Update(() => _speaker = speaker);

    internal void RecordTargetLanguage(string? language) => Update(() => _targetLanguage = language);

    internal void RecordClosed() => Update(() => _isOpen = false);

    private IReadOnlyList<string> Snapshot(List<string> list)
    {
        lock (_gate)
        {
            return [.. list];
        }
    }

    private void Update(Action change)
    {
        lock (_gate)
        {
            change();
        }

        _changed();
    }
}
