using System.Collections.Frozen;
using System.Text;

namespace CaptionSidecar.ObsBridge;

/// <summary>
/// Makes text safe for CEA-608 captions as OBS encodes them (libcaption): only characters of the 608 basic, special
/// and Western European extended sets survive, at most 32 columns a row, and a caption frame of a few rows that fits
/// OBS's 128-byte limit.
/// </summary>
public static class Cea608Text
{
    /// <summary>Columns of a 608 caption row.</summary>
    public const int Columns = 32;

    /// <summary>OBS cuts caption text to this many UTF-8 bytes (<c>CAPTION_LINE_BYTES</c>).</summary>
    public const int MaxFrameBytes = 128;

    // Basic North American set (printable ASCII except the grave accent, which libcaption cannot map), plus the
    // special and Western European extended characters libcaption maps from UTF-8.
    private static readonly FrozenSet<char> Allowed =
        (" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_abcdefghijklmnopqrstuvwxyz{|}~"
         + "áéíóúç÷Ññ█®°½¿™¢£♪àèâêîôûÁÉÓÚÜü¡—©℠•ÀÂÇÈÊËëÎÏïÔÙùÛ«»ÃãÍÌìÒòÕõÄäÖößÅå¥¤¦Øø").ToFrozenSet();

    // Characters with a plain 608 equivalent that Unicode decomposition does not give. Curly quotes are in the
    // extended set but cost two bytes each on the wire; the straight ones are in the basic set.
    private static readonly FrozenDictionary<char, string> Replacements = new Dictionary<char, string>
    {
        ['‘'] = "'", ['’'] = "'", ['‚'] = "'", ['‛'] = "'", ['′'] = "'", ['`'] = "'", ['´'] = "'",
        ['“'] = "\"", ['”'] = "\"", ['„'] = "\"", ['‟'] = "\"", ['″'] = "\"",
        ['–'] = "-", ['‐'] = "-", ['‑'] = "-", ['−'] = "-", ['…'] = "...",
        ['æ'] = "ae", ['Æ'] = "AE", ['œ'] = "oe", ['Œ'] = "OE", ['ł'] = "l", ['Ł'] = "L", ['đ'] = "d", ['Đ'] = "D",
        ['ð'] = "d", ['Ð'] = "D", ['þ'] = "th", ['Þ'] = "Th", ['ı'] = "i", ['€'] = "EUR", ['×'] = "x",
    }.ToFrozenDictionary();

    // Latin letters with diacritics (U+00C0-U+024F, U+1E00-U+1EFF) that are not in the 608 set, each followed by its
    // base letter: the Unicode canonical decomposition, precomputed because the app runs with invariant globalization
    // (string.Normalize is not available there).
    private static readonly FrozenDictionary<char, char> BaseLetters = Pairs(
        "ÝYýyÿyĀAāaĂAăaĄAąaĆCćcĈCĉcĊCċcČCčcĎDďdĒEēeĔEĕeĖEėeĘEęeĚEěeĜGĝgĞGğgĠGġgĢGģgĤHĥhĨIĩiĪIīiĬIĭiĮIįiİIĴJĵjĶKķkĹLĺlĻLļlĽLľlŃNńnŅNņnŇNňnŌOōoŎOŏoŐOőoŔRŕrŖRŗrŘRřrŚSśsŜSŝsŞSşsŠSšsŢTţtŤTťtŨUũuŪUūuŬUŭuŮUůuŰUűuŲUųuŴWŵwŶYŷyŸYŹZźzŻZżzŽZžzƠOơoƯUưuǍAǎaǏIǐiǑOǒoǓUǔuǕUǖuǗUǘuǙUǚuǛUǜuǞAǟaǠAǡaǦGǧgǨKǩkǪOǫoǬOǭoǰjǴGǵgǸNǹnǺAǻaȀAȁaȂAȃaȄEȅeȆEȇeȈIȉiȊIȋiȌOȍoȎOȏoȐRȑrȒRȓrȔUȕuȖUȗuȘSșsȚTțtȞHȟhȦAȧaȨEȩeȪOȫoȬOȭoȮOȯoȰOȱoȲYȳyḀAḁaḂBḃbḄBḅbḆBḇbḈCḉcḊDḋdḌDḍdḎDḏdḐDḑdḒDḓdḔEḕeḖEḗeḘEḙeḚEḛeḜEḝeḞFḟfḠGḡgḢHḣhḤHḥhḦHḧhḨHḩhḪHḫhḬIḭiḮIḯiḰKḱkḲKḳkḴKḵkḶLḷlḸLḹlḺLḻlḼLḽlḾMḿmṀMṁmṂMṃmṄNṅnṆNṇnṈNṉnṊNṋnṌOṍoṎOṏoṐOṑoṒOṓoṔPṕpṖPṗpṘRṙrṚRṛrṜRṝrṞRṟrṠSṡsṢSṣsṤSṥsṦSṧsṨSṩsṪTṫtṬTṭtṮTṯtṰTṱtṲUṳuṴUṵuṶUṷuṸUṹuṺUṻuṼVṽvṾVṿvẀWẁwẂWẃwẄWẅwẆWẇwẈWẉwẊXẋxẌXẍxẎYẏyẐZẑzẒZẓzẔZẕzẖhẗtẘwẙyẠAạaẢAảaẤAấaẦAầaẨAẩaẪAẫaẬAậaẮAắaẰAằaẲAẳaẴAẵaẶAặaẸEẹeẺEẻeẼEẽeẾEếeỀEềeỂEểeỄEễeỆEệeỈIỉiỊIịiỌOọoỎOỏoỐOốoỒOồoỔOổoỖOỗoỘOộoỚOớoỜOờoỞOởoỠOỡoỢOợoỤUụuỦUủuỨUứuỪUừuỬUửuỮUữuỰUựuỲYỳyỴYỵyỶYỷyỸYỹy");

    /// <summary>
    /// Replaces characters outside the 608 set by their nearest 608 equivalent (accented letters outside the set by
    /// their base letter, curly quotes by straight ones) or drops them (emoji, non-Latin scripts); folds all
    /// whitespace to single spaces.
    /// </summary>
    public static string Sanitize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length);
        var lastWasSpace = true;
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune))
            {
                if (!lastWasSpace)
                {
                    sb.Append(' ');
                    lastWasSpace = true;
                }

                continue;
            }

            var mapped = Map(rune);
            if (mapped.Length > 0)
            {
                sb.Append(mapped);
                lastWasSpace = false;
            }
        }

        return sb.ToString().TrimEnd();
    }

    /// <summary>
    /// The marker that leads a caption when another speaker starts: <c>&gt;&gt; NAME: </c>, the name upper-cased as
    /// captioners write it (the broadcast convention for a change of speaker); a name 608 cannot show at all (written
    /// in another script) leaves the bare <c>&gt;&gt; </c>, which marks the change without naming.
    /// </summary>
    public static string SpeakerChange(string speaker)
    {
        ArgumentNullException.ThrowIfNull(speaker);
        var name = Sanitize(speaker.ToUpperInvariant());
        return name.Length == 0 ? ">> " : ">> " + name + ": ";
    }

    /// <summary>
    /// Sanitizes <paramref name="text"/> and splits it into caption frames of at most <paramref name="rowsPerFrame"/>
    /// rows of at most <see cref="Columns"/> columns (word-wrapped; longer words are cut), each within
    /// <see cref="MaxFrameBytes"/>. Rows of a frame are joined by a space: libcaption wraps greedily at 32 columns
    /// too, so it lays the frame out in the same rows.
    /// </summary>
    public static IReadOnlyList<string> ToFrames(string text, int rowsPerFrame = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerFrame, 1);
        var rows = Wrap(Sanitize(text));
        var frames = new List<string>();
        var current = new List<string>();
        foreach (var row in rows)
        {
            var candidate = current.Count == 0 ? row : string.Join(' ', current) + " " + row;
            if (current.Count == rowsPerFrame || Encoding.UTF8.GetByteCount(candidate) > MaxFrameBytes)
            {
                frames.Add(string.Join(' ', current));
                current.Clear();
            }

            current.Add(row);
        }

        if (current.Count > 0)
        {
            frames.Add(string.Join(' ', current));
        }

        return frames;
    }

    /// <summary>Greedy word wrap at <see cref="Columns"/> columns (one 608 character = one column).</summary>
    public static IReadOnlyList<string> Wrap(string sanitized)
    {
        ArgumentNullException.ThrowIfNull(sanitized);
        var rows = new List<string>();
        var row = new StringBuilder();
        foreach (var word in sanitized.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var rest = word;
            while (rest.Length > Columns)
            {
                if (row.Length > 0)
                {
                    rows.Add(row.ToString());
                    row.Clear();
                }

                rows.Add(rest[..Columns]);
                rest = rest[Columns..];
            }

            if (row.Length > 0 && row.Length + 1 + rest.Length > Columns)
            {
                rows.Add(row.ToString());
                row.Clear();
            }

            if (row.Length > 0)
            {
                row.Append(' ');
            }

            row.Append(rest);
        }

        if (row.Length > 0)
        {
            rows.Add(row.ToString());
        }

        return rows;
    }

    private static FrozenDictionary<char, char> Pairs(string pairs)
    {
        var map = new Dictionary<char, char>();
        for (var i = 0; i + 1 < pairs.Length; i += 2)
        {
            map[pairs[i]] = pairs[i + 1];
        }

        return map.ToFrozenDictionary();
    }

    private static string Map(Rune rune)
    {
        if (rune.IsBmp)
        {
            var c = (char)rune.Value;
            if (Allowed.Contains(c))
            {
                return c.ToString();
            }

            if (Replacements.TryGetValue(c, out var replacement))
            {
                return replacement;
            }

            // Accented letters outside the set: the base letter (ā → a, ș → s).
            if (BaseLetters.TryGetValue(c, out var baseLetter))
            {
                return baseLetter.ToString();
            }
        }

        return string.Empty; // emoji, CJK, Cyrillic, Greek ...: 608 cannot show them
    }
}
