namespace CaptionSidecar.Tests.YouTube;

/// <summary>What kind of answer the fake ingestion server gives a post.</summary>
public enum FakeAnswerKind
{
    /// <summary>200 with the server's UTC time line as the body; the post's entries are accepted.</summary>
    Ok,

    /// <summary>A 4xx status with a reason as the body (YouTube refusing the post).</summary>
    Refuse,

    /// <summary>A 5xx status (YouTube failing).</summary>
    Fail,

    /// <summary>A delay, then another answer.</summary>
    Slow,

    /// <summary>The connection is aborted without an answer.</summary>
    Drop,
}

/// <summary>A scripted answer of <see cref="FakeYouTubeIngestion"/>: build one with <see cref="Ok"/>,
/// <see cref="Refuse"/>, <see cref="Fail"/>, <see cref="Slow"/> or <see cref="Drop"/>.</summary>
public sealed record FakeAnswer
{
    private FakeAnswer(FakeAnswerKind kind, int status, string? reason, TimeSpan delay, FakeAnswer? then)
    {
        Kind = kind;
        Status = status;
        Reason = reason;
        Delay = delay;
        Then = then;
    }

    /// <summary>The kind of answer.</summary>
    public FakeAnswerKind Kind { get; }

    /// <summary>The HTTP status (200, 4xx, 5xx); 0 for <see cref="FakeAnswerKind.Slow"/> and <see cref="FakeAnswerKind.Drop"/>.</summary>
    public int Status { get; }

    /// <summary>The body of a <see cref="FakeAnswerKind.Refuse"/>.</summary>
    public string? Reason { get; }

    /// <summary>The delay of a <see cref="FakeAnswerKind.Slow"/>.</summary>
    public TimeSpan Delay { get; }

    /// <summary>The answer after the delay of a <see cref="FakeAnswerKind.Slow"/>.</summary>
    public FakeAnswer? Then { get; }

    /// <summary>200, the body the server's UTC time line; the entries are accepted.</summary>
    public static FakeAnswer Ok { get; } = new(FakeAnswerKind.Ok, 200, null, TimeSpan.Zero, null);

    /// <summary>The connection is aborted (HttpContext.Abort) without a status line.</summary>
    public static FakeAnswer Drop { get; } = new(FakeAnswerKind.Drop, 0, null, TimeSpan.Zero, null);

    /// <summary>A 4xx refusal with <paramref name="reason"/> as the plain-text body.</summary>
    /// <param name="status">400 to 499.</param>
    /// <param name="reason">The body, e.g. "Invalid signature".</param>
    public static FakeAnswer Refuse(int status, string reason)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 499);
        ArgumentNullException.ThrowIfNull(reason);
        return new(FakeAnswerKind.Refuse, status, reason, TimeSpan.Zero, null);
    }

    /// <summary>A 5xx failure with an empty body.</summary>
    /// <param name="status">500 to 599.</param>
    public static FakeAnswer Fail(int status = 500)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 500);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 599);
        return new(FakeAnswerKind.Fail, status, null, TimeSpan.Zero, null);
    }

    /// <summary>Waits <paramref name="delay"/> (on the server's <see cref="TimeProvider"/>), then answers
    /// <paramref name="then"/>. A client that gives up during the delay gets nothing and nothing is accepted.</summary>
    /// <param name="delay">The delay.</param>
    /// <param name="then">The answer after it (not another <see cref="FakeAnswerKind.Slow"/>).</param>
    public static FakeAnswer Slow(TimeSpan delay, FakeAnswer then)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(then);
        if (then.Kind == FakeAnswerKind.Slow)
        {
            throw new ArgumentException("Slow takes a final answer, not another Slow.", nameof(then));
        }

        return new(FakeAnswerKind.Slow, 0, null, delay, then);
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        FakeAnswerKind.Ok => "Ok",
        FakeAnswerKind.Refuse => $"Refuse({Status}, {Reason})",
        FakeAnswerKind.Fail => $"Fail({Status})",
        FakeAnswerKind.Slow => $"Slow({Delay}, {Then})",
        _ => "Drop",
    };
}

/// <summary>How a post ended on the server's side.</summary>
public enum IngestionOutcome
{
    /// <summary>A status and body were sent.</summary>
    Answered,

    /// <summary>The server aborted the connection (<see cref="FakeAnswer.Drop"/>).</summary>
    Dropped,

    /// <summary>The client went away while a <see cref="FakeAnswer.Slow"/> answer was waiting.</summary>
    ClientGone,
}

/// <summary>The answer the server gave one post.</summary>
/// <param name="Outcome">Answered, dropped by the server, or the client went away first.</param>
/// <param name="Status">The HTTP status sent, or null when none was.</param>
/// <param name="Body">The body sent (empty when none was).</param>
/// <param name="Delay">How long the server waited before answering (a <see cref="FakeAnswer.Slow"/>).</param>
public sealed record IngestionAnswer(IngestionOutcome Outcome, int? Status, string Body, TimeSpan Delay);

/// <summary>One request the fake ingestion server received, as checked and answered.</summary>
/// <param name="Index">1 for the first request received, counting every request.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The request path.</param>
/// <param name="RawQuery">The query string as sent, without the leading '?'.</param>
/// <param name="Seq">The seq parameter, when there was exactly one and it was an integer ≥ 1.</param>
/// <param name="ContentType">The Content-Type header, or null.</param>
/// <param name="Body">The raw body.</param>
/// <param name="BodyText">The body as text (invalid UTF-8 shown as U+FFFD).</param>
/// <param name="Entries">The entries that parsed.</param>
/// <param name="IsRetry">Same seq and byte-identical body as the post before it.</param>
/// <param name="InFlightAtArrival">How many other posts were still unanswered when this one arrived (posts should be
/// serialised; not a problem by itself, since a client that gave up on a slow post may retry before the server
/// notices).</param>
/// <param name="Problems">What was wrong with this post (empty when nothing).</param>
/// <param name="Answer">The answer it got.</param>
/// <param name="Accepted">Whether its entries were added to <see cref="FakeYouTubeIngestion.Accepted"/> (false for a
/// retry of a seq already accepted).</param>
/// <param name="ReceivedAt">When it arrived, on the server's <see cref="TimeProvider"/>.</param>
public sealed record IngestionPost(
    int Index,
    string Method,
    string Path,
    string RawQuery,
    long? Seq,
    string? ContentType,
    ReadOnlyMemory<byte> Body,
    string BodyText,
    IReadOnlyList<IngestedCaption> Entries,
    bool IsRetry,
    int InFlightAtArrival,
    IReadOnlyList<string> Problems,
    IngestionAnswer Answer,
    bool Accepted,
    DateTimeOffset ReceivedAt);
