namespace CaptionSidecar.Captions;

/// <summary>
/// The decisions of a <see cref="CaptionMix"/>, without a clock or a lock: combines the updates of several speakers'
/// caption tracks of one language into what outputs see.
/// <list type="bullet">
/// <item>Display: one block of lines per speaker showing text, stacked in the order the blocks began; when their lines
/// do not fit <c>maxLines</c>, every block keeps its last line and the newest blocks get the rest, so two people
/// talking at once both stay on screen.</item>
/// <item>Final lines leave in start order across speakers, so transcripts keep time order: a final waits while
/// another speaker has a committed turn that started earlier and is still pending, at most <c>holdLimit</c>.</item>
/// </list>
/// With one speaker every update passes through unchanged (apart from the final lines' language-wide index, which
/// then equals the track's). Times are timestamps of the caller's clock.
/// </summary>
internal sealed class CaptionMixState(int maxLines, TimeSpan holdLimit, long ticksPerSecond)
{
    /// <summary>Pending turns remembered per speaker at most (a caption track holds at most 128); the oldest is forgotten beyond.</summary>
    internal const int MaxPendingPerSpeaker = 256;

    private readonly Dictionary<string, Block> _blocks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, Pending>> _pending = new(StringComparer.Ordinal);
    private readonly List<Held> _held = [];
    private long _order;
    private int _index;

    /// <summary>Final items waiting for an earlier turn of another speaker (for tests).</summary>
    internal int HeldCount => _held.Count;

    /// <summary>A turn of <paramref name="speaker"/> was committed: finals of others that start later wait for it.</summary>
    public void Committed(string speaker, string item, TimeSpan start, long now)
    {
        if (!_pending.TryGetValue(speaker, out var pending))
        {
            pending = new Dictionary<string, Pending>(StringComparer.Ordinal);
            _pending[speaker] = pending;
        }

        pending[item] = new Pending(start, now);
        if (pending.Count > MaxPendingPerSpeaker)
        {
            pending.Remove(pending.MinBy(p => p.Value.Since).Key);
        }
    }

    /// <summary>A turn of <paramref name="speaker"/> got its final text or failed: it holds nobody back any more.</summary>
    public void Settled(string speaker, string item)
    {
        if (_pending.TryGetValue(speaker, out var pending))
        {
            pending.Remove(item);
        }
    }

    /// <summary>A speaker's track published <paramref name="update"/>: the language's update to publish.</summary>
    public MixOutput Update(string speaker, CaptionUpdate update, long now)
    {
        ArgumentNullException.ThrowIfNull(update);
        var block = _blocks.TryGetValue(speaker, out var known) ? known : _blocks[speaker] = new Block();
        if (update.Lines.Count == 0)
        {
            block.Lines = [];
        }
        else
        {
            if (block.Lines.Count == 0)
            {
                block.Order = ++_order;
            }

            block.Lines = update.Lines;
        }

        foreach (var item in update.Finalized)
        {
            Settled(speaker, item.ItemId);
            _held.Add(new Held(speaker, item, now));
        }

        var released = Release(now);
        var cleared = update.Kind == CaptionUpdateKind.Cleared && _blocks.Values.All(b => b.Lines.Count == 0);
        return new MixOutput(cleared ? CaptionUpdateKind.Cleared : CaptionUpdateKind.Text, cleared ? [] : Lines(), released);
    }

    /// <summary>A speaker's track is gone (muted, language off): its block and pending turns go, its held finals leave.</summary>
    public MixOutput Remove(string speaker, long now)
    {
        _blocks.Remove(speaker);
        _pending.Remove(speaker);
        var released = Release(now, force: speaker);
        var lines = Lines();
        return new MixOutput(lines.Count == 0 ? CaptionUpdateKind.Cleared : CaptionUpdateKind.Text, lines, released);
    }

    /// <summary>Time passed: finals that waited long enough leave; null when nothing changed.</summary>
    public MixOutput? Tick(long now)
    {
        foreach (var pending in _pending.Values)
        {
            foreach (var stale in pending.Where(p => Elapsed(p.Value.Since, now) >= holdLimit).Select(p => p.Key).ToList())
            {
                pending.Remove(stale);
            }
        }

        var released = Release(now);
        return released.Count == 0 ? null : new MixOutput(CaptionUpdateKind.Text, Lines(), released);
    }

    /// <summary>When <see cref="Tick"/> should next run (a held final's or a pending turn's limit), or null.</summary>
    public long? NextDeadline()
    {
        long? next = null;
        foreach (var held in _held)
        {
            next = Min(next, held.Since + ToTicks(holdLimit));
        }

        foreach (var pending in _pending.Values)
        {
            foreach (var p in pending.Values)
            {
                next = Min(next, p.Since + ToTicks(holdLimit));
            }
        }

        return next;
    }

    private List<CaptionItem> Release(long now, string? force = null)
    {
        if (_held.Count == 0)
        {
            return [];
        }

        // Stable by start: equal starts keep arrival order.
        var ordered = _held.Select((h, i) => (h, i)).OrderBy(x => x.h.Item.Start).ThenBy(x => x.i).Select(x => x.h).ToList();
        // A final that waited its limit (or whose speaker left) leaves, and every final before it leaves first.
        var forcedUpTo = -1;
        for (var i = 0; i < ordered.Count; i++)
        {
            if (ordered[i].Speaker == force || Elapsed(ordered[i].Since, now) >= holdLimit)
            {
                forcedUpTo = i;
            }
        }

        var released = new List<CaptionItem>();
        var kept = new List<Held>();
        var blocked = false;
        for (var i = 0; i < ordered.Count; i++)
        {
            var held = ordered[i];
            if (!blocked && (i <= forcedUpTo || !EarlierPendingElsewhere(held, now)))
            {
                released.Add(held.Item with { Index = ++_index });
            }
            else
            {
                // Everything after a final that waits waits too, so finals leave in start order.
                blocked = true;
                kept.Add(held);
            }
        }

        _held.Clear();
        _held.AddRange(kept);
        return released;
    }

    private bool EarlierPendingElsewhere(Held held, long now)
    {
        foreach (var (speaker, pending) in _pending)
        {
            if (speaker == held.Speaker)
            {
                continue;
            }

            foreach (var p in pending.Values)
            {
                if (p.Start < held.Item.Start && Elapsed(p.Since, now) < holdLimit)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private List<CaptionLine> Lines()
    {
        var blocks = _blocks.Values.Where(b => b.Lines.Count > 0).OrderBy(b => b.Order).ToList();
        var total = blocks.Sum(b => b.Lines.Count);
        if (total <= maxLines || blocks.Count <= 1)
        {
            // One speaker's lines pass as the track laid them out.
            return [.. blocks.SelectMany(b => b.Lines)];
        }

        // Every block keeps its last line; lines left over go to the newest blocks first.
        var shown = blocks.Select(_ => 1).ToArray();
        var room = maxLines - blocks.Count;
        for (var i = blocks.Count - 1; i >= 0 && room > 0; i--)
        {
            var more = Math.Min(room, blocks[i].Lines.Count - 1);
            shown[i] += more;
            room -= more;
        }

        var lines = new List<CaptionLine>();
        for (var i = 0; i < blocks.Count; i++)
        {
            lines.AddRange(blocks[i].Lines.Skip(blocks[i].Lines.Count - shown[i]));
        }

        return lines;
    }

    private TimeSpan Elapsed(long since, long now) => TimeSpan.FromSeconds((double)(now - since) / ticksPerSecond);

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * ticksPerSecond);

    private static long? Min(long? a, long b) => a is { } x && x <= b ? x : b;

    private sealed class Block
    {
        public IReadOnlyList<CaptionLine> Lines { get; set; } = [];

        public long Order { get; set; }
    }

    private readonly record struct Pending(TimeSpan Start, long Since);

    private sealed record Held(string Speaker, CaptionItem Item, long Since);
}

/// <summary>What the mix publishes for the language after an input.</summary>
/// <param name="Kind">Cleared when no speaker shows text after a clear, else Text.</param>
/// <param name="Lines">The composed lines.</param>
/// <param name="Finalized">Final items released now, in start order, with the language-wide index.</param>
internal sealed record MixOutput(CaptionUpdateKind Kind, IReadOnlyList<CaptionLine> Lines, IReadOnlyList<CaptionItem> Finalized);
