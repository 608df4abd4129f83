<?xml version="1.0" encoding="UTF-8"?><gml:FeatureCollection xsi:schemaLocation="http://www.geostandaarden.nl/imgeo/2.1/simple/gml31 imgeo-simple-2.1-gml31.xsd http://www.opengis.net/gml http://schemas.opengis.net/gml/3.1.1/base/gml.xsd" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:imgeo-s="http://www.geostandaarden.nl/imgeo/2.1/simple/gml31" xmlns:gml="http://www.opengis.net/gml" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<gml:featureMember>
<imgeo-s:Pand gml:id="b624a3706-ffe6-11e5-8acc-1fc21a78c5fd">
<imgeo-s:objectBeginTijd>2005-12-23</imgeo-s:objectBeginTijd>
<imgeo-s:identificatie.namespace>NL.IMGeo</imgeo-s:identificatie.namespace>
<imgeo-s:identificatie.lokaalID>G0363.c5f4cc8ee86a4bcca08e931ae2fff3a0</imgeo-s:identificatie.lokaalID>
<imgeo-s:tijdstipRegistratie>2006-09-18T14:38:56.000</imgeo-s:tijdstipRegistratie>
<imgeo-s:LV-publicatiedatum>2016-03-17T00:13:17.000</imgeo-s:LV-publicatiedatum>
<imgeo-s:bronhouder>G0363</imgeo-s:bronhouder>
<imgeo-s:inOnderzoek>false</imgeo-s:inOnderzoek>
<imgeo-s:relatieveHoogteligging>0</imgeo-s:relatieveHoogteligging>
<imgeo-s:bgt-status>bestaand</imgeo-s:bgt-status>
<imgeo-s:identificatieBAGPND>0363100012165994</imgeo-s:identificatieBAGPND>                   <imgeo-s:nummeraanduidingreeks_1.tekst>111</imgeo-s:nummeraanduidingreeks_1.tekst>                                      <imgeo-s:nummeraanduidingreeks_1.positie_1.plaatsingspunt>
<gml:Point>              <gml:pos>113609.398 488576.346</gml:pos>            </gml:Point>
</imgeo-s:nummeraanduidingreeks_1.positie_1.plaatsingspunt>          <imgeo-s:nummeraanduidingreeks_1.positie_1.hoek>-25</imgeo-s:nummeraanduidingreeks_1.positie_1.hoek>                                                                 <imgeo-s:nummeraanduidingreeks_1.identificatieBAGVBOLaagsteHuisnummer>0363010001015012</imgeo-s:nummeraanduidingreeks_1.identificatieBAGVBOLaagsteHuisnummer>                                                  <imgeo-s:geometrie2d>
<gml:MultiSurface>
<gml:surfaceMember>
<gml:Polygon>
<gml:exterior>
<gml:LinearRing>
<gml:posList>113615.862 488578.165 113613.351 488576.996 113612.051 488579.788 113604.889 488576.453 113606.248 488573.689 113617.676 488549.142 113627.290 488553.618 113615.862 488578.165</gml:posList>
</gml:LinearRing>
</gml:exterior>
</gml:Polygon>
</gml:surfaceMember>
</gml:MultiSurface>
</imgeo-s:geometrie2d>
</imgeo-s:Pand>
</gml:featureMember>
<gml:featureMember>
<imgeo-s:Pand gml:id="b624aaccb-ffe6-11e5-8acc-1fc21a78c5fd">
<imgeo-s:objectBeginTijd>2005-12-23</imgeo-s:objectBeginTijd>
<imgeo-s:identificatie.namespace>NL.IMGeo</imgeo-s:identificatie.namespace>
<imgeo-s:identificatie.lokaalID>G0363.c75fa723f76f4333875e603d38d63196</imgeo-s:identificatie.lokaalID>
<imgeo-s:tijdstipRegistratie>2005-12-23T15:57:08.000</imgeo-s:tijdstipRegistratie>
<imgeo-s:LV-publicatiedatum>2016-03-17T00:13:17.000</imgeo-s:LV-publicatiedatum>
<imgeo-s:bronhouder>G0363</imgeo-s:bronhouder>
<imgeo-s:inOnderzoek>false</imgeo-s:inOnderzoek>
<imgeo-s:relatieveHoogteligging>0</imgeo-s:relatieveHoogteligging>
<imgeo-s:bgt-status>bestaand</imgeo-s:bgt-status>
<imgeo-s:identificatieBAGPND>0363100012191504</imgeo-s:identificatieBAGPND>                                <imgeo-s:geometrie2d>
<gml:MultiSurface>
<gml:surfaceMember>
<gml:Polygon>
<gml:exterior>
<gml:LinearRing>
<gml:posList>113295.376 488607.881 113288.307 488607.850 113288.334 488601.882 113288.338 488600.800 113295.407 488600.831 113295.376 488607.881</gml:posList>
</gml:LinearRing>
</gml:exterior>
</gml:Polygon>
</gml:surfaceMember>
</gml:MultiSurface>
</imgeo-s:geometrie2d>
</imgeo-s:Pand>
</gml:featureMember>
</gml:FeatureCollection>
