using System.Globalization;
using System.Text;
using System.Text.Json;
using CaptionSidecar.Glossaries;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Translation;

/// <summary>Where a text translation session stands.</summary>
internal enum TextSessionPhase
{
    /// <summary>Connected; waiting for <c>session.created</c>.</summary>
    AwaitingCreated,

    /// <summary><c>session.update</c> sent; waiting for <c>session.updated</c>.</summary>
    AwaitingUpdated,

    /// <summary>Configured: lines may be asked for.</summary>
    Ready,
}

/// <summary>
/// One text-only Realtime session of a <see cref="RealtimeTextTranslationTrack"/>: its connection and receive task,
/// its handshake, its bounded conversation (<see cref="TranslationConversation"/>), the one response it is asked for
/// at a time, and the client events it has queued. It does no I/O itself: the track's loop owns it, sends its outbox
/// and reads its events.
/// </summary>
internal sealed class TextTranslationSession(int number, IRealtimeConnection connection, int maxConversationItems, DateTimeOffset openedAt)
{
    private readonly Queue<(BinaryData Message, string EventId, string Type)> _outbox = new();
    private int _items;

    /// <summary>The session's number in its track (1, 2, …).</summary>
    public int Number { get; } = number;

    public IRealtimeConnection Connection { get; } = connection;

    /// <summary>Client events with ids unique to this session.</summary>
    public RealtimeClientEvents Events { get; } = new(string.Create(CultureInfo.InvariantCulture, $"tt{number}"));

    /// <summary>Ends the receive task.</summary>
    public CancellationTokenSource Lost { get; } = new();

    /// <summary>The task reading the connection into the track's loop.</summary>
    public Task Receive { get; set; } = Task.CompletedTask;

    public TextSessionPhase Phase { get; set; } = TextSessionPhase.AwaitingCreated;

    public DateTimeOffset OpenedAt { get; } = openedAt;

    public string SessionId { get; set; } = "unknown";

    /// <summary>The server's <c>expires_at</c>, if it sent one.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>When the handshake must be done by.</summary>
    public DateTimeOffset? HandshakeDeadline { get; set; }

    /// <summary>When the next session is to be opened (a rollover); null when rollover is off or not yet known.</summary>
    public DateTimeOffset? RolloverAt { get; set; }

    /// <summary>The <c>event_id</c> of the handshake's <c>session.update</c>.</summary>
    public string? ConfigEventId { get; set; }

    /// <summary>The glossary the session's instructions were last sent with.</summary>
    public Glossary Glossary { get; set; } = Glossary.Empty;

    public TranslationConversation Conversation { get; } = new(maxConversationItems);

    /// <summary>The response being asked for, if any (also a cancelled one until its <c>response.done</c>).</summary>
    public TextAsk? Ask { get; set; }

    /// <summary>Responses answered (completed) in this session.</summary>
    public int Answered { get; set; }

    /// <summary>A new conversation item id, unique in this session's conversation.</summary>
    public string NextItemId() => string.Create(CultureInfo.InvariantCulture, $"txt{Number}_{++_items}");

    /// <summary>Queues a client event; the loop sends it before it reads the next input.</summary>
    public void Send((BinaryData Message, string EventId) evt, string type) => _outbox.Enqueue((evt.Message, evt.EventId, type));

    /// <summary>Takes the next queued event.</summary>
    public bool TryTakeQueued(out (BinaryData Message, string EventId, string Type) queued) => _outbox.TryDequeue(out queued);

    /// <summary>True when <paramref name="responseId"/> (or, before <c>response.created</c> named one, any response) is the one asked for.</summary>
    public bool IsAsked(string? responseId, string? namedTurn)
    {
        if (Ask is not { } ask)
        {
            return false;
        }

        if (namedTurn is not null && namedTurn != ask.ItemId)
        {
            return false;
        }

        if (ask.ResponseId is null && responseId is not null)
        {
            // One response at a time: the first response this session hears of after asking is that one.
            ask.ResponseId = responseId;
        }

        return responseId is null || responseId == ask.ResponseId;
    }
}

/// <summary>A response asked for one line.</summary>
/// <param name="line">The source line's item id.</param>
/// <param name="itemId">The conversation item holding the line's text in this session.</param>
/// <param name="createEventId">The <c>event_id</c> of the item's <c>conversation.item.create</c>.</param>
/// <param name="responseEventId">The <c>event_id</c> of the <c>response.create</c>.</param>
internal sealed class TextAsk(string line, string itemId, string createEventId, string responseEventId)
{
    public string Line { get; } = line;

    public string ItemId { get; } = itemId;

    public string CreateEventId { get; } = createEventId;

    public string ResponseEventId { get; } = responseEventId;

    /// <summary>The server's id of the response, once known.</summary>
    public string? ResponseId { get; set; }

    /// <summary>The answer's conversation item, once known.</summary>
    public string? AnswerItem { get; set; }

    /// <summary>The text streamed so far (deltas).</summary>
    public StringBuilder Streamed { get; } = new();

    /// <summary>The text the done events gave.</summary>
    public string? DoneText { get; set; }

    /// <summary>Set when the line was given up on (lag limit): the response was cancelled and its answer is ignored.</summary>
    public bool Cancelled { get; set; }

    /// <summary>When a cancelled response must have ended by; past it the session is replaced.</summary>
    public DateTimeOffset? CancelDeadline { get; set; }
}

/// <summary>One input of a text translation track's loop: everything that can change its state comes as one of these.</summary>
internal abstract record TextTranslationInput
{
    /// <summary>A source line was taken from the caller's channel.</summary>
    public sealed record LineArrived(SourceLine Line) : TextTranslationInput;

    /// <summary>The caller's channel of lines completed.</summary>
    public sealed record LinesEnded : TextTranslationInput
    {
        public static LinesEnded Instance { get; } = new();
    }

    /// <summary>A connection was opened (the connect task's result).</summary>
    public sealed record Connected(IRealtimeConnection Connection) : TextTranslationInput;

    /// <summary>Opening a connection failed in a way no retry can help (a rejected key).</summary>
    public sealed record ConnectFailed(Exception Failure) : TextTranslationInput;

    /// <summary>A parsed server event of session <paramref name="Session"/>; the loop disposes the document.</summary>
    public sealed record ServerEvent(int Session, JsonDocument Document) : TextTranslationInput;

    /// <summary>Session <paramref name="Session"/>'s connection ended without us ending it.</summary>
    public sealed record ConnectionEnded(int Session, string Reason) : TextTranslationInput;

    /// <summary>The glossary changed.</summary>
    public sealed record GlossaryChanged : TextTranslationInput
    {
        public static GlossaryChanged Instance { get; } = new();
    }

    /// <summary>A deadline may have passed (the loop checks them all).</summary>
    public sealed record Tick : TextTranslationInput
    {
        public static Tick Instance { get; } = new();
    }
}
