namespace CaptionSidecar.Realtime;

/// <summary>
/// Which translation to ask for next, without a socket: one response at a time (the default conversation allows a
/// single active response), turns in commit order, each response mapped back to its turn (by <c>metadata.turn</c>,
/// else the one turn asked for). A refused request is asked once more with the turn alone as context, then the turn
/// fails; a conversation busy with a response nobody here asked for gets the same turn again once that one is done.
/// The session sends what it decides; a request is never dropped, only postponed. Owned by the session's loop.
/// </summary>
internal sealed class ResponseScheduler
{
    private readonly LinkedList<string> _waiting = new();
    private readonly Dictionary<string, string> _turnOfResponse = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _turnOfRequest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _answerOfResponse = new(StringComparer.Ordinal);
    private readonly HashSet<string> _alone = new(StringComparer.Ordinal);
    private readonly HashSet<string> _activeOutputItems = new(StringComparer.Ordinal);
    private string? _activeTurn;
    private bool _serverBusy;

    /// <summary>The turn whose response is asked for and not done yet.</summary>
    public string? ActiveTurn => _activeTurn;

    /// <summary>Turns committed and not asked for yet.</summary>
    public int Waiting => _waiting.Count;

    /// <summary>A turn was committed: it waits for its response.</summary>
    public void Committed(string turn) => _waiting.AddLast(turn);

    /// <summary>
    /// The next request to send, or null while a response is active (or the server is busy) or no turn waits. The
    /// caller sends it and reports its event id with <see cref="Sent"/>.
    /// </summary>
    public ResponseRequest? Next()
    {
        if (_activeTurn is not null || _serverBusy || _waiting.First is not { } first)
        {
            return null;
        }

        _waiting.RemoveFirst();
        _activeTurn = first.Value;
        return new ResponseRequest(first.Value, _alone.Contains(first.Value));
    }

    /// <summary>The request for <paramref name="turn"/> went out as <paramref name="eventId"/>.</summary>
    public void Sent(string eventId, string turn) => _turnOfRequest[eventId] = turn;

    /// <summary>The turn a response answers: the turn it names, else the one turn asked for (remembered for the response's later events).</summary>
    public string? TurnOf(string responseId, string? namedTurn = null)
    {
        if (_turnOfResponse.TryGetValue(responseId, out var known))
        {
            return known;
        }

        var turn = namedTurn ?? _activeTurn;
        if (turn is not null)
        {
            _turnOfResponse[responseId] = turn;
        }

        return turn;
    }

    /// <summary><c>response.output_item.added</c>: the item is that response's answer (kept in the conversation while it streams).</summary>
    public void OutputItemAdded(string responseId, string itemId)
    {
        if (TurnOf(responseId) is not null)
        {
            _activeOutputItems.Add(itemId);
            _answerOfResponse.TryAdd(responseId, itemId);
        }
    }

    /// <summary>True for an output item of a response still streaming: it must not be deleted.</summary>
    public bool IsActiveOutput(string itemId) => _activeOutputItems.Contains(itemId);

    /// <summary>
    /// <c>response.done</c>: the response ended; returns its turn (null for a response nobody here asked for) and its
    /// answer item (<paramref name="firstOutputItem"/> when no <c>output_item.added</c> named one). The next request
    /// may go out.
    /// </summary>
    public (string? Turn, string? Answer) Done(string responseId, string? namedTurn, string? firstOutputItem)
    {
        var turn = TurnOf(responseId, namedTurn);
        _turnOfResponse.Remove(responseId);
        _activeOutputItems.Clear();
        var answer = _answerOfResponse.Remove(responseId, out var added) ? added : firstOutputItem;
        if (turn is not null)
        {
            if (turn == _activeTurn)
            {
                _activeTurn = null;
            }

            _alone.Remove(turn);
            if (_turnOfRequest.FirstOrDefault(p => p.Value == turn).Key is { } request)
            {
                _turnOfRequest.Remove(request);
            }
        }

        _serverBusy = false;
        return (turn, answer);
    }

    /// <summary>An <c>error</c> named the event <paramref name="eventId"/> with <paramref name="code"/>: what becomes of its turn.</summary>
    public Refusal Refused(string eventId, string code)
    {
        if (!_turnOfRequest.Remove(eventId, out var turn) || turn != _activeTurn || _turnOfResponse.ContainsValue(turn))
        {
            return new Refusal(RefusalOutcome.NotARequest, null);
        }

        _activeTurn = null;
        if (code == "conversation_already_has_active_response")
        {
            // A response this session did not ask for is running: ask again for the same turn once it is done.
            _serverBusy = true;
            _waiting.AddFirst(turn);
            return new Refusal(RefusalOutcome.AskAgainWhenIdle, turn);
        }

        if (_alone.Add(turn))
        {
            // Perhaps a context item is gone (the server truncated it): ask once more with the turn alone.
            _waiting.AddFirst(turn);
            return new Refusal(RefusalOutcome.AskAlone, turn);
        }

        _alone.Remove(turn);
        return new Refusal(RefusalOutcome.Failed, turn);
    }
}

/// <summary>A <c>response.create</c> to send.</summary>
/// <param name="Turn">The turn to translate.</param>
/// <param name="Alone">True when its context is the turn alone (a retry after a refusal).</param>
internal readonly record struct ResponseRequest(string Turn, bool Alone);

/// <summary>What became of a refused client event.</summary>
internal readonly record struct Refusal(RefusalOutcome Outcome, string? Turn);

/// <summary>What a refusal means for a turn.</summary>
internal enum RefusalOutcome
{
    /// <summary>The event was not the active response request (perhaps a delete).</summary>
    NotARequest,

    /// <summary>The conversation is busy with another response: the turn is asked for again once it is done.</summary>
    AskAgainWhenIdle,

    /// <summary>Asked once more with the turn alone as context.</summary>
    AskAlone,

    /// <summary>Refused alone too: the turn fails and the next one gets its chance.</summary>
    Failed,
}
