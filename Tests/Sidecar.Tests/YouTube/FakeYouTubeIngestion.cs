using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Tests.YouTube;

/// <summary>
/// A fake YouTube Live caption ingestion server ("Closed Captions over HTTP", YouTube Help answer 6077032) on Kestrel
/// (127.0.0.1, a port the OS picks). It checks every request strictly against the documented format and records a
/// human-readable <see cref="Problems"/> list that tests assert is empty: POST to <c>/closedcaption</c>; every query
/// parameter of <see cref="Url"/> present once with its value (<c>key=yt_qc</c> in the signed style), no others but exactly one
/// <c>seq</c>, an integer ≥ 1 that starts at <see cref="FirstSeq"/>, goes up by one for each post of new caption data
/// and is unchanged (with a byte-identical body) on a retry; <c>Content-Type: text/plain</c> (charset utf-8 if
/// given); a UTF-8 body of time lines (<c>yyyy-MM-ddTHH:mm:ss.fff</c>, optional <c> region:…</c>) each followed by a
/// non-empty text line; times not decreasing within a post and across accepted posts.
/// It answers each post with the next answer of <see cref="EnqueueAnswers"/>, else <see cref="DefaultAnswer"/>; a
/// post with format problems is answered 400 (405, 404 for a wrong method or path) with the first problem as the
/// reason while <see cref="RefuseBadPosts"/> is true. Entries of posts answered 200 go to <see cref="Accepted"/>,
/// each seq once.
/// </summary>
public sealed class FakeYouTubeIngestion : IAsyncDisposable
{
    /// <summary>The path of the ingestion URL.</summary>
    public const string IngestionPath = "/closedcaption";

    /// <summary>The value the documented <c>key</c> parameter must have.</summary>
    public const string Key = "yt_qc";

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Queue<FakeAnswer> _script = new();
    private readonly List<IngestionPost> _posts = [];
    private readonly List<IngestedCaption> _accepted = [];
    private readonly List<long> _acceptedSeqs = [];
    private readonly HashSet<long> _acceptedSeqSet = [];
    private readonly List<string> _problems = [];
    private readonly List<(Func<bool> Done, TaskCompletionSource Signal)> _waiters = [];
    private readonly (string Name, string Value)[] _parameters;
    private WebApplication? _app;
    private FakeAnswer _defaultAnswer = FakeAnswer.Ok;
    private bool _refuseBadPosts = true;
    private int _received;
    private int _inFlight;
    private long? _lastSeq;
    private byte[] _lastBody = [];
    private DateTime? _lastAcceptedTime;

    /// <summary>Creates the server (not started) with made-up stream and signing parameters.</summary>
    /// <param name="firstSeq">The seq the first post must carry; null accepts any integer ≥ 1.</param>
    /// <param name="timeProvider">The clock for received-at times, the 200 body and <see cref="FakeAnswer.Slow"/>
    /// delays; the system clock by default.</param>
    /// <param name="urlStyle">Which kind of ingestion URL to hand out: the signed one of the vendor page's table (with
    /// a cid) or the cid-only one YouTube Studio and the Data API hand out today.</param>
    public FakeYouTubeIngestion(long? firstSeq = 1, TimeProvider? timeProvider = null, IngestionUrlStyle urlStyle = IngestionUrlStyle.Signed)
    {
        if (firstSeq is { } first)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(first, 1);
        }

        FirstSeq = firstSeq;
        _time = timeProvider ?? TimeProvider.System;
        var expire = _time.GetUtcNow().AddDays(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var cid = ("cid", string.Join('-', Enumerable.Range(0, 4).Select(_ => RandomToken(4, "abcdefghijklmnopqrstuvwxyz0123456789"))));
        _parameters = urlStyle == IngestionUrlStyle.StreamKey ? [cid] :
        [
            cid,
            ("id", RandomToken(22, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")),
            ("ns", "yt-live"),
            ("sparams", "id,ns,expire"),
            ("expire", expire),
            ("signature", $"{RandomToken(40, "0123456789ABCDEF")}.{RandomToken(40, "0123456789ABCDEF")}"),
            ("key", Key),
        ];
    }

    /// <summary>The seq the first post must carry; null when any integer ≥ 1 is fine.</summary>
    public long? FirstSeq { get; }

    /// <summary>The full ingestion URL a streamer would copy from YouTube Studio (a secret to the sidecar); set by
    /// <see cref="StartAsync"/>.</summary>
    public string Url { get; private set; } = string.Empty;

    /// <summary>The query parameters of <see cref="Url"/> (decoded), each of which every post must carry.</summary>
    public IReadOnlyDictionary<string, string> UrlParameters => _parameters.ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);

    /// <summary>The answer once the <see cref="EnqueueAnswers"/> queue is empty; <see cref="FakeAnswer.Ok"/> at first.</summary>
    public FakeAnswer DefaultAnswer
    {
        get
        {
            lock (_gate)
            {
                return _defaultAnswer;
            }
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (_gate)
            {
                _defaultAnswer = value;
            }
        }
    }

    /// <summary>Whether a post with format problems is answered 400 (or 404/405) with the first problem as the reason,
    /// whatever answer was scripted for it (the scripted answer is still used up). True at first.</summary>
    public bool RefuseBadPosts
    {
        get
        {
            lock (_gate)
            {
                return _refuseBadPosts;
            }
        }

        set
        {
            lock (_gate)
            {
                _refuseBadPosts = value;
            }
        }
    }

    /// <summary>Every request answered (or dropped) so far, in arrival order.</summary>
    public IReadOnlyList<IngestionPost> Posts
    {
        get
        {
            lock (_gate)
            {
                return [.. _posts];
            }
        }
    }

    /// <summary>The entries of posts answered 200, in order, each seq counted once.</summary>
    public IReadOnlyList<IngestedCaption> Accepted
    {
        get
        {
            lock (_gate)
            {
                return [.. _accepted];
            }
        }
    }

    /// <summary>The seqs whose entries are in <see cref="Accepted"/>, in the order they were accepted.</summary>
    public IReadOnlyList<long> AcceptedSeqs
    {
        get
        {
            lock (_gate)
            {
                return [.. _acceptedSeqs];
            }
        }
    }

    /// <summary>Everything found wrong so far, each line naming the post ("post #3 (seq 5): seq 5 after 3").</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_gate)
            {
                return [.. _problems];
            }
        }
    }

    /// <summary>Queues answers for the next posts, one per request in arrival order.</summary>
    /// <param name="answers">The answers.</param>
    public void EnqueueAnswers(params FakeAnswer[] answers)
    {
        ArgumentNullException.ThrowIfNull(answers);
        lock (_gate)
        {
            foreach (var answer in answers)
            {
                ArgumentNullException.ThrowIfNull(answer);
                _script.Enqueue(answer);
            }
        }
    }

    /// <summary>Starts listening on 127.0.0.1 (a port the OS picks) and sets <see cref="Url"/>.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("The fake ingestion server is already started.");
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(HandleAsync);
        _app = app;
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var query = string.Join('&', _parameters.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value)}"));
        Url = $"{address.TrimEnd('/')}{IngestionPath}?{query}";
    }

    /// <summary>Completes when at least <paramref name="count"/> requests have been answered (or dropped).</summary>
    /// <param name="count">How many.</param>
    /// <param name="cancellationToken">Gives up waiting.</param>
    /// <returns>The posts at that moment.</returns>
    public async Task<IReadOnlyList<IngestionPost>> WaitForPostsAsync(int count, CancellationToken cancellationToken)
    {
        await WaitUntilAsync(() => _posts.Count >= count, cancellationToken);
        return Posts;
    }

    /// <summary>Completes when at least <paramref name="entries"/> entries have been accepted.</summary>
    /// <param name="entries">How many entries.</param>
    /// <param name="cancellationToken">Gives up waiting.</param>
    /// <returns>The accepted entries at that moment.</returns>
    public async Task<IReadOnlyList<IngestedCaption>> WaitForAcceptedAsync(int entries, CancellationToken cancellationToken)
    {
        await WaitUntilAsync(() => _accepted.Count >= entries, cancellationToken);
        return Accepted;
    }

    /// <summary>A summary for assertion messages: one line per post (seq, answer, entries) and every problem.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        lock (_gate)
        {
            foreach (var post in _posts)
            {
                text.Append(CultureInfo.InvariantCulture, $"post #{post.Index} {post.Method} seq {post.Seq?.ToString(CultureInfo.InvariantCulture) ?? "-"}")
                    .Append(CultureInfo.InvariantCulture, $" → {post.Answer.Outcome} {post.Answer.Status?.ToString(CultureInfo.InvariantCulture) ?? "-"}")
                    .Append(CultureInfo.InvariantCulture, $", {post.Entries.Count} entries{(post.IsRetry ? ", retry" : "")}{(post.Accepted ? ", accepted" : "")}")
                    .Append('\n');
            }

            foreach (var problem in _problems)
            {
                text.Append("problem: ").Append(problem).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>Stops the server, cutting short any slow answer, and fails pending waits.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        lock (_gate)
        {
            foreach (var (_, signal) in _waiters)
            {
                signal.TrySetException(new ObjectDisposedException(nameof(FakeYouTubeIngestion)));
            }

            _waiters.Clear();
        }

        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var receivedAt = _time.GetUtcNow();
        var request = context.Request;
        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, context.RequestAborted);
            body = buffer.ToArray();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            // The client went away mid-body: nothing arrived to check.
            return;
        }

        var problems = new List<string>();
        var refuseStatus = 400;
        if (!HttpMethods.IsPost(request.Method))
        {
            problems.Add($"method {request.Method}, must be POST");
            refuseStatus = 405;
        }

        if (!string.Equals(request.Path.Value, IngestionPath, StringComparison.Ordinal))
        {
            problems.Add($"path {request.Path.Value}, must be {IngestionPath}");
            refuseStatus = 404;
        }

        var rawQuery = request.QueryString.HasValue ? request.QueryString.Value![1..] : string.Empty;
        var seq = CheckQuery(rawQuery, problems);
        CheckContentType(request.ContentType, problems);
        var entries = YouTubeCaptionBody.Parse(body, out var bodyText, problems);
        var formatProblems = problems.Count;

        FakeAnswer planned;
        int index;
        int inFlight;
        bool isRetry;
        bool refuseBadPosts;
        lock (_gate)
        {
            index = ++_received;
            inFlight = _inFlight++;
            isRetry = CheckSeq(seq, body, problems);
            planned = _script.Count > 0 ? _script.Dequeue() : _defaultAnswer;
            refuseBadPosts = _refuseBadPosts;
        }

        var finished = false;
        try
        {
            var answer = planned;
            var delay = TimeSpan.Zero;
            if (planned.Kind == FakeAnswerKind.Slow)
            {
                delay = planned.Delay;
                using var waiting = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
                try
                {
                    await Task.Delay(delay, _time, waiting.Token);
                }
                catch (OperationCanceledException)
                {
                    finished = true;
                    Record(new IngestionAnswer(IngestionOutcome.ClientGone, null, string.Empty, delay), accept: false);
                    return;
                }

                answer = planned.Then!;
            }

            if (formatProblems > 0 && refuseBadPosts && answer.Kind != FakeAnswerKind.Drop)
            {
                answer = FakeAnswer.Refuse(refuseStatus, $"Bad request: {problems[0]}");
            }

            var responseBody = answer.Kind switch
            {
                FakeAnswerKind.Ok => YouTubeCaptionBody.FormatTime(_time.GetUtcNow()) + "\n",
                FakeAnswerKind.Refuse => answer.Reason!,
                _ => string.Empty,
            };
            var outcome = answer.Kind == FakeAnswerKind.Drop ? IngestionOutcome.Dropped : IngestionOutcome.Answered;
            int? status = answer.Kind == FakeAnswerKind.Drop ? null : answer.Status;

            // Recorded before the answer leaves, so a client that has its 200 finds the post and entries recorded.
            finished = true;
            Record(new IngestionAnswer(outcome, status, responseBody, delay), accept: answer.Kind == FakeAnswerKind.Ok);
            if (answer.Kind == FakeAnswerKind.Drop)
            {
                context.Abort();
                return;
            }

            context.Response.StatusCode = answer.Status;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(responseBody, context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client went away while the answer was written: it was recorded already.
        }
        finally
        {
            if (!finished)
            {
                lock (_gate)
                {
                    _inFlight--;
                }
            }
        }

        void Record(IngestionAnswer given, bool accept)
        {
            lock (_gate)
            {
                _inFlight--;
                var accepted = false;
                if (accept && (seq is not { } s || _acceptedSeqSet.Add(s)))
                {
                    accepted = true;
                    if (entries.Count > 0 && _lastAcceptedTime is { } last && entries[0].Time < last)
                    {
                        problems.Add($"its first time {YouTubeCaptionBody.FormatTime(new DateTimeOffset(entries[0].Time))} is earlier than the last accepted one ({YouTubeCaptionBody.FormatTime(new DateTimeOffset(last))})");
                    }

                    _accepted.AddRange(entries);
                    if (seq is { } acceptedSeq)
                    {
                        _acceptedSeqs.Add(acceptedSeq);
                    }

                    if (entries.Count > 0)
                    {
                        _lastAcceptedTime = entries[^1].Time;
                    }
                }

                var name = string.Create(CultureInfo.InvariantCulture, $"post #{index} (seq {seq?.ToString(CultureInfo.InvariantCulture) ?? "-"})");
                _problems.AddRange(problems.Select(p => $"{name}: {p}"));
                var post = new IngestionPost(
                    index,
                    request.Method,
                    request.Path.Value ?? string.Empty,
                    rawQuery,
                    seq,
                    request.ContentType,
                    body,
                    bodyText,
                    entries,
                    isRetry,
                    inFlight,
                    [.. problems],
                    given,
                    accepted,
                    receivedAt);
                var at = _posts.FindIndex(p => p.Index > index);
                _posts.Insert(at < 0 ? _posts.Count : at, post);
                SignalWaiters();
            }
        }
    }

    /// <summary>Checks the query string; returns the seq when there is exactly one valid one.</summary>
    private long? CheckQuery(string rawQuery, List<string> problems)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? string.Empty : Decode(pair[(equals + 1)..]);
            if (!values.TryGetValue(name, out var list))
            {
                values[name] = list = [];
            }

            list.Add(value);
        }

        foreach (var (name, expected) in _parameters)
        {
            if (!values.TryGetValue(name, out var sent))
            {
                problems.Add($"query parameter {name} is missing");
            }
            else if (sent.Count > 1)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"query parameter {name} appears {sent.Count} times"));
            }
            else if (!string.Equals(sent[0], expected, StringComparison.Ordinal))
            {
                problems.Add(name == "key"
                    ? $"key is '{sent[0]}', must be {Key}"
                    : $"query parameter {name} is '{sent[0]}', not the ingestion URL's value");
            }
        }

        foreach (var name in values.Keys.Where(n => n != "seq" && !_parameters.Any(p => p.Name == n)))
        {
            problems.Add($"unexpected query parameter '{name}'");
        }

        if (!values.TryGetValue("seq", out var seqs))
        {
            problems.Add("seq is missing");
            return null;
        }

        if (seqs.Count > 1)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"seq appears {seqs.Count} times ({string.Join(", ", seqs)})"));
            return null;
        }

        if (!long.TryParse(seqs[0], NumberStyles.None, CultureInfo.InvariantCulture, out var seq) || seq < 1)
        {
            problems.Add($"seq '{seqs[0]}' is not an integer ≥ 1");
            return null;
        }

        return seq;
    }

    private static string Decode(string component) => Uri.UnescapeDataString(component.Replace('+', ' '));

    private static void CheckContentType(string? contentType, List<string> problems)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            problems.Add("Content-Type is missing, must be text/plain");
            return;
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            problems.Add($"Content-Type '{contentType}' is not a media type, must be text/plain");
            return;
        }

        if (!string.Equals(media.MediaType, "text/plain", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"Content-Type is '{contentType}', must be text/plain");
        }

        foreach (var parameter in media.Parameters)
        {
            if (string.Equals(parameter.Name, "charset", StringComparison.OrdinalIgnoreCase))
            {
                var charset = parameter.Value?.Trim('"') ?? string.Empty;
                if (!string.Equals(charset, "utf-8", StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add($"Content-Type charset is '{charset}', must be utf-8");
                }
            }
            else
            {
                problems.Add($"Content-Type has an unexpected parameter '{parameter.Name}'");
            }
        }
    }

    /// <summary>The seq rule against the post before (under the lock); returns whether this post is a retry.</summary>
    private bool CheckSeq(long? seq, byte[] body, List<string> problems)
    {
        if (seq is not { } current)
        {
            return false;
        }

        var isRetry = false;
        if (_lastSeq is not { } last)
        {
            if (FirstSeq is { } first && current != first)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"the first post has seq {current}, expected {first}"));
            }
        }
        else if (current == last)
        {
            if (body.AsSpan().SequenceEqual(_lastBody))
            {
                isRetry = true;
            }
            else
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"seq {current} repeated with a different body"));
            }
        }
        else if (current == last + 1)
        {
            if (body.AsSpan().SequenceEqual(_lastBody))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"seq {current} has the same body as seq {last} (a retry must keep its seq)"));
            }
        }
        else
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"seq {current} after {last}"));
        }

        _lastSeq = current;
        _lastBody = body;
        return isRetry;
    }

    private Task WaitUntilAsync(Func<bool> done, CancellationToken cancellationToken)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (done())
            {
                return Task.CompletedTask;
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((done, signal));
        }

        return signal.Task.WaitAsync(cancellationToken);
    }

    private void SignalWaiters()
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Done())
            {
                _waiters[i].Signal.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    private static string RandomToken(int length, string alphabet) =>
        string.Create(length, alphabet, static (span, chars) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = chars[RandomNumberGenerator.GetInt32(chars.Length)];
            }
        });
}

/// <summary>Which kind of ingestion URL <see cref="FakeYouTubeIngestion"/> hands out.</summary>
public enum IngestionUrlStyle
{
    /// <summary><c>cid</c> plus the signed parameters the vendor page's table requires: <c>id</c>, <c>ns</c>,
    /// <c>sparams=id,ns,expire</c>, <c>expire</c>, <c>signature</c>, <c>key=yt_qc</c>.</summary>
    Signed,

    /// <summary>Only <c>cid</c> (the stream key), as in the <c>closedCaptionsIngestionUrl</c> YouTube hands out today
    /// (<c>http://upload.youtube.com/closedcaption?cid=xxxx-xxxx-xxxx-xxxx</c>).</summary>
    StreamKey,
}
