namespace CaptionSidecar.YouTube;

/// <summary>One post to YouTube: its <c>seq</c>, the URL it goes to, the lines and the body (fixed for every retry).</summary>
/// <param name="Seq">YouTube's counter: one more than the post before, the same for each retry of this post.</param>
/// <param name="Url">Where it goes.</param>
/// <param name="Lines">The lines in it, oldest first.</param>
/// <param name="Body">The body (<see cref="YouTubeDocument.Body"/>), byte for byte the same on a retry.</param>
internal sealed record YouTubePost(long Seq, YouTubeIngestionUrl Url, IReadOnlyList<YouTubeLine> Lines, string Body)
{
    /// <summary>When the oldest line in it was spoken: once that is older than the age limit, the post is given up.</summary>
    public DateTimeOffset OldestSpokenAt => Lines[0].SpokenAt;
}

/// <summary>How a post ended, as its task reports it to the loop.</summary>
internal abstract record YouTubePostOutcome
{
    private YouTubePostOutcome()
    {
    }

    /// <summary>YouTube took it (2xx).</summary>
    public sealed record Accepted(int Status, string Answer) : YouTubePostOutcome;

    /// <summary>YouTube refused it (4xx other than 408 and 429): the URL is wrong or expired; retrying cannot help.</summary>
    public sealed record Refused(int Status, string Reason) : YouTubePostOutcome;

    /// <summary>Its oldest line got older than the age limit while it was retried: given up, its lines dropped.</summary>
    public sealed record Stale(string? LastProblem) : YouTubePostOutcome;
}

/// <summary>What the loop does after a decision: send a post, and when to call <see cref="YouTubeOutbox.SlotDue"/>.</summary>
/// <param name="Send">A post to start now (at most one is in flight).</param>
/// <param name="WakeIn">Call <see cref="YouTubeOutbox.SlotDue"/> after this long (asked again on every decision until then: re-arming one timer is enough).</param>
/// <param name="CancelInFlight">The post in flight is no longer wanted (the URL changed, the output was turned off).</param>
internal readonly record struct YouTubeStep(YouTubePost? Send = null, TimeSpan? WakeIn = null, bool CancelInFlight = false);

/// <summary>What the output is doing.</summary>
internal enum YouTubeOutputState
{
    /// <summary>No URL, or turned off.</summary>
    Off,

    /// <summary>On, nothing waiting.</summary>
    Idle,

    /// <summary>A post is on its way.</summary>
    Posting,

    /// <summary>The last attempt failed (5xx, network); the post is being retried.</summary>
    Retrying,

    /// <summary>YouTube refused a post (4xx): paused until the URL is set again or the output turned on again.</summary>
    Refused,
}

/// <summary>
/// The YouTube output's decisions, with no sockets or clocks (times are passed in): which lines go into which post,
/// the <c>seq</c> of each, at most one post in flight and at most one started per <see cref="MinInterval"/>, lines too
/// old to post dropped and counted, a refusal pausing the output. <see cref="YouTubeOutput"/>'s loop feeds it.
/// </summary>
internal sealed class YouTubeOutbox
{
    /// <summary>Least time between the starts of two posts: at most two posts a second (lines final together share one).</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Most lines in one post.</summary>
    public const int MaxLinesPerPost = 20;

    /// <summary>Most lines waiting for a post; more drop the oldest (counted).</summary>
    public const int MaxPending = 500;

    private readonly LinkedList<YouTubeLine> _pending = new();
    private DateTimeOffset? _lastStart;
    private bool _enabled;

    /// <summary>Makes the outbox; <paramref name="maxAge"/> is how old (since spoken) a line may be when posted.</summary>
    public YouTubeOutbox(TimeSpan maxAge)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxAge, TimeSpan.Zero);
        MaxAge = maxAge;
    }

    /// <summary>How old a line may get before it is dropped instead of posted.</summary>
    public TimeSpan MaxAge { get; private set; }

    /// <summary>Where posts go; null when none is set.</summary>
    public YouTubeIngestionUrl? Url { get; private set; }

    /// <summary>True when a URL is set and the output is on (refused or not).</summary>
    public bool On => _enabled && Url is not null;

    /// <summary>What the output is doing.</summary>
    public YouTubeOutputState State { get; private set; } = YouTubeOutputState.Off;

    /// <summary>The post in flight, if any.</summary>
    public YouTubePost? InFlight { get; private set; }

    /// <summary>The <c>seq</c> the next new post gets.</summary>
    public long NextSeq { get; private set; } = 1;

    /// <summary>Posts YouTube took.</summary>
    public long PostsSent { get; private set; }

    /// <summary>Lines in posts YouTube took.</summary>
    public long LinesSent { get; private set; }

    /// <summary>Lines never posted: too old, refused, over the waiting limit.</summary>
    public long LinesDropped { get; private set; }

    /// <summary>Failed attempts (5xx, network, timeout), each retried.</summary>
    public long Errors { get; private set; }

    /// <summary>When the last post was answered (any answer), or null.</summary>
    public DateTimeOffset? LastAnswerAt { get; private set; }

    /// <summary>The last answer (for example <c>200</c>, <c>400: reason</c>, <c>network: ...</c>), or null.</summary>
    public string? LastAnswer { get; private set; }

    /// <summary>Why the output is paused (YouTube's refusal), or null.</summary>
    public string? RefusedReason { get; private set; }

    /// <summary>Lines waiting for a post.</summary>
    public int Pending => _pending.Count;

    /// <summary>
    /// Sets the URL, the age limit and whether the output is on. A new URL starts <c>seq</c> at 1 again and ends a
    /// pause; the post in flight to the old URL is cancelled and its lines go first into the next post. Any call while
    /// on ends a pause after a refusal (the moderator's "try again"). Turning the output off drops what waits (not
    /// counted: nobody asked for it) and cancels the post in flight.
    /// </summary>
    public YouTubeStep Configure(YouTubeIngestionUrl? url, bool enabled, TimeSpan maxAge, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxAge, TimeSpan.Zero);
        MaxAge = maxAge;
        var urlChanged = !Equals(url, Url);
        Url = url;
        _enabled = enabled;
        var cancel = false;
        if (urlChanged)
        {
            NextSeq = 1;
            cancel = Requeue();
        }

        if (!On)
        {
            cancel |= InFlight is not null;
            InFlight = null;
            _pending.Clear();
            RefusedReason = null;
            State = YouTubeOutputState.Off;
            return new YouTubeStep(CancelInFlight: cancel);
        }

        // Any change by a moderator (a new URL, turning it on again) is the "try again" after a refusal.
        if (State is YouTubeOutputState.Refused or YouTubeOutputState.Off)
        {
            RefusedReason = null;
            State = InFlight is null ? YouTubeOutputState.Idle : State;
        }

        var next = Next(now);
        return next with { CancelInFlight = cancel };
    }

    /// <summary>Lines that became final: they wait for the next post (dropped and counted while refused; ignored while off).</summary>
    public YouTubeStep Add(IEnumerable<YouTubeLine> lines, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(lines);
        foreach (var line in lines)
        {
            if (!On)
            {
                continue;
            }

            if (State == YouTubeOutputState.Refused)
            {
                LinesDropped++;
                continue;
            }

            _pending.AddLast(line);
            if (_pending.Count > MaxPending)
            {
                _pending.RemoveFirst();
                LinesDropped++;
            }
        }

        return Next(now);
    }

    /// <summary>The wait asked for by <see cref="YouTubeStep.WakeIn"/> is over.</summary>
    public YouTubeStep SlotDue(DateTimeOffset now) => Next(now);

    /// <summary>An attempt of the post in flight failed and is being retried (5xx, network, timeout).</summary>
    public void Retrying(long seq, string problem, DateTimeOffset now)
    {
        if (InFlight?.Seq != seq)
        {
            return;
        }

        Errors++;
        LastAnswer = problem;
        LastAnswerAt = now;
        State = YouTubeOutputState.Retrying;
    }

    /// <summary>The post <paramref name="seq"/> ended with <paramref name="outcome"/>; an outcome of a cancelled post is ignored.</summary>
    public YouTubeStep Finished(long seq, YouTubePostOutcome outcome, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (InFlight is not { } post || post.Seq != seq)
        {
            return default;
        }

        InFlight = null;
        State = YouTubeOutputState.Idle;
        switch (outcome)
        {
            case YouTubePostOutcome.Accepted accepted:
                PostsSent++;
                LinesSent += post.Lines.Count;
                LastAnswer = accepted.Answer.Length == 0 ? $"{accepted.Status}" : $"{accepted.Status}: {accepted.Answer}";
                LastAnswerAt = now;
                break;
            case YouTubePostOutcome.Refused refused:
                LinesDropped += post.Lines.Count + _pending.Count;
                _pending.Clear();
                LastAnswer = $"{refused.Status}: {refused.Reason}";
                LastAnswerAt = now;
                RefusedReason = $"{refused.Status} {refused.Reason}".Trim();
                State = YouTubeOutputState.Refused;
                return default;
            case YouTubePostOutcome.Stale:
                LinesDropped += post.Lines.Count;
                break;
        }

        return Next(now);
    }

    /// <summary>Starts the next post when one may start: drops lines too old, waits for the slot, takes the oldest lines.</summary>
    private YouTubeStep Next(DateTimeOffset now)
    {
        if (!On || State == YouTubeOutputState.Refused || InFlight is not null)
        {
            return default;
        }

        while (_pending.First is { } first && now - first.Value.SpokenAt > MaxAge)
        {
            _pending.RemoveFirst();
            LinesDropped++;
        }

        if (_pending.Count == 0)
        {
            return default;
        }

        if (_lastStart is { } last && now - last < MinInterval)
        {
            return new YouTubeStep(WakeIn: MinInterval - (now - last));
        }

        var lines = new List<YouTubeLine>(Math.Min(MaxLinesPerPost, _pending.Count));
        while (lines.Count < MaxLinesPerPost && _pending.First is { } line)
        {
            lines.Add(line.Value);
            _pending.RemoveFirst();
        }

        InFlight = new YouTubePost(NextSeq++, Url!, lines, YouTubeDocument.Body(lines));
        _lastStart = now;
        State = YouTubeOutputState.Posting;
        return new YouTubeStep(Send: InFlight);
    }

    /// <summary>Puts the lines of the post in flight back in front of the waiting ones; true when there was one.</summary>
    private bool Requeue()
    {
        if (InFlight is not { } post)
        {
            return false;
        }

        for (var i = post.Lines.Count - 1; i >= 0; i--)
        {
            _pending.AddFirst(post.Lines[i]);
        }

        InFlight = null;
        State = YouTubeOutputState.Idle;
        return true;
    }
}
