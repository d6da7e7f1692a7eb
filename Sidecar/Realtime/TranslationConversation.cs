namespace CaptionSidecar.Realtime;

/// <summary>
/// A translation session's conversation as the server holds it, bounded: its items oldest first, the turns already
/// translated with their answers (the context a response sees), and the deletes in flight. After each response the
/// oldest items beyond the bound are deleted (never a turn still waiting, nor the answer streaming), so what each
/// response re-sends, and costs, stays flat. Owned by the session's loop.
/// </summary>
internal sealed class TranslationConversation(int maxItems)
{
    private readonly List<string> _items = [];
    private readonly HashSet<string> _present = new(StringComparer.Ordinal);
    private readonly List<(string Turn, string Answer)> _translated = [];
    private readonly Dictionary<string, string> _itemOfDelete = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deleting = new(StringComparer.Ordinal);

    /// <summary>Items in the conversation, oldest first.</summary>
    public IReadOnlyList<string> Items => _items;

    /// <summary>True while a delete was sent and not yet confirmed or refused.</summary>
    public bool DeletesPending => _itemOfDelete.Count > 0;

    /// <summary>Adds an item once, after <paramref name="previous"/> when known, else at the end.</summary>
    public void Add(string id, string? previous = null)
    {
        if (!_present.Add(id))
        {
            return;
        }

        var at = previous is null ? -1 : _items.IndexOf(previous);
        if (at >= 0)
        {
            _items.Insert(at + 1, id);
        }
        else
        {
            _items.Add(id);
        }
    }

    /// <summary>A turn was translated into <paramref name="answer"/>: the pair may be context for later turns.</summary>
    public void Translated(string turn, string answer)
    {
        _translated.Add((turn, answer));
        if (_translated.Count > maxItems)
        {
            _translated.RemoveAt(0);
        }
    }

    /// <summary>
    /// What a response for <paramref name="turn"/> sees: the newest translated turns with their answers (whole pairs,
    /// still in the conversation and not being deleted) within the bound, then the turn itself; the turn alone when
    /// <paramref name="alone"/>.
    /// </summary>
    public IReadOnlyList<string> Context(string turn, bool alone)
    {
        if (alone)
        {
            return [turn];
        }

        bool Present(string item) => _present.Contains(item) && !_deleting.Contains(item);

        var pairs = new List<(string Turn, string Answer)>();
        var room = maxItems - 1;
        for (var i = _translated.Count - 1; i >= 0 && room >= 2; i--)
        {
            var pair = _translated[i];
            if (Present(pair.Turn) && Present(pair.Answer))
            {
                pairs.Add(pair);
                room -= 2;
            }
        }

        var context = new List<string>(2 * pairs.Count + 1);
        for (var i = pairs.Count - 1; i >= 0; i--)
        {
            context.Add(pairs[i].Turn);
            context.Add(pairs[i].Answer);
        }

        context.Add(turn);
        return context;
    }

    /// <summary>The oldest items beyond the bound that may go (not being deleted, not kept by <paramref name="keep"/>), oldest first.</summary>
    public IReadOnlyList<string> ExcessItems(Func<string, bool> keep)
    {
        var excess = _items.Count - _itemOfDelete.Count - maxItems;
        var result = new List<string>();
        foreach (var item in _items)
        {
            if (excess <= 0)
            {
                break;
            }

            if (_deleting.Contains(item) || keep(item))
            {
                continue;
            }

            result.Add(item);
            excess--;
        }

        return result;
    }

    /// <summary>A <c>conversation.item.delete</c> for <paramref name="item"/> went out as <paramref name="eventId"/>.</summary>
    public void DeleteSent(string eventId, string item)
    {
        _itemOfDelete[eventId] = item;
        _deleting.Add(item);
    }

    /// <summary>The item a refused delete was for, or null when <paramref name="eventId"/> was no delete.</summary>
    public string? DeleteOf(string eventId) => _itemOfDelete.GetValueOrDefault(eventId);

    /// <summary>An item left the conversation (deleted), or the delete <paramref name="eventId"/> for it was refused: it is no longer tracked.</summary>
    public void Forget(string item, string? eventId = null)
    {
        if (_present.Remove(item))
        {
            _items.Remove(item);
        }

        var key = eventId ?? _itemOfDelete.FirstOrDefault(p => p.Value == item).Key;
        if (key is not null && _itemOfDelete.Remove(key, out var deleted))
        {
            _deleting.Remove(deleted);
        }
    }
}
